using System.Diagnostics.CodeAnalysis;

namespace GpuMux.Engine.Sessions;

/// <summary>
/// A session's handles of one kind. Handles start at 1, so 0 is never one, and are not reused
/// until the counter wraps, so a stale handle is unknown rather than another object's.
/// </summary>
internal sealed class HandleTable<T>
    where T : class
{
    private readonly Dictionary<uint, T> _items = [];
    private uint _last;

    public int Count => _items.Count;

    public Dictionary<uint, T>.ValueCollection Values => _items.Values;

    public IEnumerable<KeyValuePair<uint, T>> Entries => _items;

    public uint Add(T item)
    {
        do
        {
            _last++;
        }
        while (_last == 0 || _items.ContainsKey(_last));
        _items.Add(_last, item);
        return _last;
    }

    public bool TryGet(uint handle, [MaybeNullWhen(false)] out T item) => _items.TryGetValue(handle, out item);

    public bool Remove(uint handle, [MaybeNullWhen(false)] out T item) => _items.Remove(handle, out item);

    /// <summary>The handle of the first item that matches, or 0.</summary>
    public uint Find(Func<T, bool> match)
    {
        foreach (var (handle, item) in _items)
        {
            if (match(item))
            {
                return handle;
            }
        }
        return 0;
    }

    public void RemoveWhere(Func<T, bool> match)
    {
        foreach (var (handle, item) in _items)
        {
            if (match(item))
            {
                _items.Remove(handle);
            }
        }
    }

    public void Clear() => _items.Clear();
}
