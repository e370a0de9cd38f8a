namespace GpuMux.Engine.Scheduling;

/// <summary>An item of an <see cref="IndexedMinHeap{T}"/>: it keeps its own slot, so that it can be found, moved and removed without a search.</summary>
internal interface IHeapItem<T>
    where T : class, IHeapItem<T>
{
    /// <summary>Its position in the heap; -1 while it is in none.</summary>
    int HeapSlot { get; set; }

    /// <summary>Whether <paramref name="a"/> comes before <paramref name="b"/>; a strict order.</summary>
    static abstract bool Precedes(T a, T b);
}

/// <summary>
/// A binary min-heap whose items know their slots: the first in O(1); adding, removing any item
/// and moving one whose key changed in O(log n); and a walk in order that visits the k first in
/// O(k log k) without taking them out. Its arrays grow and are kept, so that in steady state
/// nothing is allocated. .NET's PriorityQueue can neither remove an item it is not at the front
/// nor move one whose priority changed.
/// </summary>
internal sealed class IndexedMinHeap<T>
    where T : class, IHeapItem<T>
{
    private T[] _items = new T[4];

    // The walk's frontier: slots whose parents it has visited and they not yet, itself a min-heap.
    private int[] _frontier = new int[4];
    private int _frontierCount;
    private int _version;
    private int _walkVersion = -1;

    public int Count { get; private set; }

    /// <summary>The first item; null when empty.</summary>
    public T? First => Count > 0 ? _items[0] : null;

    /// <summary>The item in <paramref name="slot"/>, for a visit of every item in no order.</summary>
    public T this[int slot] => slot < Count ? _items[slot] : throw new ArgumentOutOfRangeException(nameof(slot));

    public bool Contains(T item) => item.HeapSlot >= 0 && item.HeapSlot < Count && _items[item.HeapSlot] == item;

    public void Add(T item)
    {
        if (item.HeapSlot >= 0)
        {
            throw new InvalidOperationException("the item is in a heap already");
        }
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, Count * 2);
        }
        _version++;
        Place(item, Count++);
        SiftUp(item.HeapSlot);
    }

    public void Remove(T item)
    {
        if (!Contains(item))
        {
            throw new InvalidOperationException("the item is not in this heap");
        }
        _version++;
        var slot = item.HeapSlot;
        item.HeapSlot = -1;
        var last = _items[--Count];
        _items[Count] = null!;
        if (slot < Count)
        {
            Place(last, slot);
            Restore(slot);
        }
    }

    /// <summary>Moves <paramref name="item"/> to where its key now puts it; call after its key changed.</summary>
    public void Update(T item)
    {
        if (!Contains(item))
        {
            throw new InvalidOperationException("the item is not in this heap");
        }
        _version++;
        Restore(item.HeapSlot);
    }

    /// <summary>Starts a walk in order; the heap must not change until it ends.</summary>
    public void BeginWalk()
    {
        if (_frontier.Length < _items.Length)
        {
            _frontier = new int[_items.Length];
        }
        _walkVersion = _version;
        _frontierCount = 0;
        if (Count > 0)
        {
            _frontier[_frontierCount++] = 0;
        }
    }

    /// <summary>The next item of the walk, in order; null once every item has been visited.</summary>
    public T? NextInWalk()
    {
        if (_walkVersion != _version)
        {
            throw new InvalidOperationException("the heap changed during a walk");
        }
        if (_frontierCount == 0)
        {
            return null;
        }
        var slot = _frontier[0];
        _frontier[0] = _frontier[--_frontierCount];
        SiftFrontierDown(0);
        // Each visit adds at most one to the frontier, so it never outgrows the heap.
        for (var child = (2 * slot) + 1; child <= (2 * slot) + 2 && child < Count; child++)
        {
            _frontier[_frontierCount] = child;
            SiftFrontierUp(_frontierCount++);
        }
        return _items[slot];
    }

    private void Restore(int slot)
    {
        if (slot > 0 && T.Precedes(_items[slot], _items[(slot - 1) / 2]))
        {
            SiftUp(slot);
        }
        else
        {
            SiftDown(slot);
        }
    }

    private void SiftUp(int slot)
    {
        var item = _items[slot];
        while (slot > 0)
        {
            var parent = (slot - 1) / 2;
            if (!T.Precedes(item, _items[parent]))
            {
                break;
            }
            Place(_items[parent], slot);
            slot = parent;
        }
        Place(item, slot);
    }

    private void SiftDown(int slot)
    {
        var item = _items[slot];
        while (true)
        {
            var child = (2 * slot) + 1;
            if (child >= Count)
            {
                break;
            }
            if (child + 1 < Count && T.Precedes(_items[child + 1], _items[child]))
            {
                child++;
            }
            if (!T.Precedes(_items[child], item))
            {
                break;
            }
            Place(_items[child], slot);
            slot = child;
        }
        Place(item, slot);
    }

    private void Place(T item, int slot)
    {
        _items[slot] = item;
        item.HeapSlot = slot;
    }

    private bool FrontierPrecedes(int a, int b) => T.Precedes(_items[_frontier[a]], _items[_frontier[b]]);

    private void SiftFrontierUp(int at)
    {
        while (at > 0 && FrontierPrecedes(at, (at - 1) / 2))
        {
            (_frontier[at], _frontier[(at - 1) / 2]) = (_frontier[(at - 1) / 2], _frontier[at]);
            at = (at - 1) / 2;
        }
    }

    private void SiftFrontierDown(int at)
    {
        while (true)
        {
            var child = (2 * at) + 1;
            if (child >= _frontierCount)
            {
                return;
            }
            if (child + 1 < _frontierCount && FrontierPrecedes(child + 1, child))
            {
                child++;
            }
            if (!FrontierPrecedes(child, at))
            {
                return;
            }
            (_frontier[at], _frontier[child]) = (_frontier[child], _frontier[at]);
            at = child;
        }
    }
}
