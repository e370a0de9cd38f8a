using GpuMux.Engine.Scheduling;

namespace GpuMux.Engine.Tests.Scheduling;

/// <summary>The heap the scheduler keeps each class's active tenants in: first the least key, whatever changed or left.</summary>
public sealed class IndexedMinHeapTests
{
    [Fact]
    public void Items_come_first_by_key_after_keys_change_up_and_down()
    {
        var heap = new IndexedMinHeap<Keyed>();
        var items = Enumerable.Range(0, 50).Select(i => new Keyed(i, i * 10)).ToList();
        foreach (var item in items)
        {
            heap.Add(item);
        }

        items[0].Key = 1_000;
        heap.Update(items[0]);
        items[49].Key = -5;
        heap.Update(items[49]);
        items[20].Key = 255;
        heap.Update(items[20]);

        Assert.Same(items[49], heap.First);
        Assert.Equal(items.OrderBy(i => i.Key).ThenBy(i => i.Tie).Select(i => i.Id), WalkIds(heap));
    }

    [Fact]
    public void Removing_any_item_leaves_the_others_in_order_and_the_item_free_to_join_again()
    {
        var heap = new IndexedMinHeap<Keyed>();
        var random = new Random(17);
        var items = Enumerable.Range(0, 64).Select(i => new Keyed(i, random.Next(20))).ToList();
        foreach (var item in items)
        {
            heap.Add(item);
        }

        var removed = new[] { items[0], items[63], items[31], heap.First! };
        foreach (var item in removed.Distinct())
        {
            heap.Remove(item);
            Assert.False(heap.Contains(item));
            Assert.Equal(-1, item.HeapSlot);
        }

        var left = items.Except(removed).OrderBy(i => i.Key).ThenBy(i => i.Tie).Select(i => i.Id);
        Assert.Equal(left, WalkIds(heap));
        heap.Add(removed[1]);
        Assert.True(heap.Contains(removed[1]));
        Assert.Equal(items.Count - removed.Distinct().Count() + 1, heap.Count);
    }

    [Fact]
    public void Random_adds_removals_and_key_changes_keep_the_first_the_least()
    {
        var heap = new IndexedMinHeap<Keyed>();
        var random = new Random(4);
        var inHeap = new List<Keyed>();
        for (var i = 0; i < 5_000; i++)
        {
            switch (random.Next(3))
            {
                case 0:
                    var added = new Keyed(i, random.Next(100));
                    heap.Add(added);
                    inHeap.Add(added);
                    break;
                case 1 when inHeap.Count > 0:
                    var gone = inHeap[random.Next(inHeap.Count)];
                    heap.Remove(gone);
                    inHeap.Remove(gone);
                    break;
                case 2 when inHeap.Count > 0:
                    var moved = inHeap[random.Next(inHeap.Count)];
                    moved.Key += random.Next(-50, 50);
                    heap.Update(moved);
                    break;
            }
            Assert.Equal(inHeap.Count, heap.Count);
            Assert.Same(inHeap.OrderBy(k => k.Key).ThenBy(k => k.Tie).FirstOrDefault(), heap.First);
        }
    }

    [Fact]
    public void A_walk_stops_at_a_change_rather_than_visit_a_moved_heap()
    {
        var heap = new IndexedMinHeap<Keyed>();
        var items = Enumerable.Range(0, 4).Select(i => new Keyed(i, i)).ToList();
        foreach (var item in items)
        {
            heap.Add(item);
        }

        heap.BeginWalk();
        Assert.Same(items[0], heap.NextInWalk());
        heap.Remove(items[2]);

        Assert.Throws<InvalidOperationException>(() => heap.NextInWalk());
    }

    private static List<int> WalkIds(IndexedMinHeap<Keyed> heap)
    {
        var ids = new List<int>();
        heap.BeginWalk();
        while (heap.NextInWalk() is { } item)
        {
            ids.Add(item.Id);
        }
        return ids;
    }

    private sealed class Keyed(int id, int key) : IHeapItem<Keyed>
    {
        public int Id { get; } = id;

        public int Key { get; set; } = key;

        // Ties go by the order of creation, so that the expected order is one.
        public int Tie { get; } = id;

        public int HeapSlot { get; set; } = -1;

        public static bool Precedes(Keyed a, Keyed b) => a.Key != b.Key ? a.Key < b.Key : a.Tie < b.Tie;
    }
}
