using EdgeSeg.Pipeline.Refinement;

namespace EdgeSeg.Pipeline.Tests.Refinement;

public sealed class VertexTableTests
{
    [Fact]
    public void Inserted_keys_are_found_with_their_ids_and_others_are_not()
    {
        var table = new VertexTable();
        table.Reset(100);
        Assert.Equal(128, table.Capacity);

        // Consecutive keys and keys a lattice step apart, as the lattice makes them: enough to
        // fill a third of the table, so that probe chains form.
        var keys = Enumerable.Range(1, 40).Select(i => (long)i * ((i % 2 == 0) ? 1 : 4097)).ToArray();
        for (var id = 0; id < keys.Length; id++)
        {
            Assert.False(table.Probe(keys[id], out var slot));
            table.Insert(slot, keys[id], id);
        }

        for (var id = 0; id < keys.Length; id++)
        {
            Assert.Equal(id, table.Find(keys[id]));
            Assert.True(table.Probe(keys[id], out var slot));
            Assert.Equal(id, table.IdAt(slot));
        }

        Assert.Equal(-1, table.Find(123_456_789));
    }

    [Fact]
    public void Reset_empties_the_table_and_never_shrinks_it()
    {
        var table = new VertexTable();
        table.Reset(2048);
        table.Probe(42, out var slot);
        table.Insert(slot, 42, 0);
        table.Reset(16);
        Assert.Equal(2048, table.Capacity);
        Assert.Equal(-1, table.Find(42));
    }

    [Fact]
    public void Concurrent_claims_of_one_key_leave_one_slot_and_one_id()
    {
        var table = new VertexTable();
        table.Reset(1024);
        var keys = Enumerable.Range(1, 300).Select(i => (long)i * 7919).ToArray();
        var nextId = 0;
        var found = new int[2][];

        // Both threads insert every key, as two workers do with shared simplex corners.
        void Insert(int worker)
        {
            var ids = new int[keys.Length];
            for (var i = 0; i < keys.Length; i++)
            {
                while (true)
                {
                    if (table.Probe(keys[i], out var slot))
                    {
                        ids[i] = table.WaitForId(slot);
                        break;
                    }

                    if (table.TryClaim(slot, keys[i]))
                    {
                        ids[i] = Interlocked.Increment(ref nextId) - 1;
                        table.Publish(slot, ids[i]);
                        break;
                    }
                }
            }

            found[worker] = ids;
        }

        var other = new Thread(() => Insert(1));
        other.Start();
        Insert(0);
        other.Join();

        Assert.Equal(keys.Length, nextId);
        Assert.Equal(found[0], found[1]);
        Assert.Equal(keys.Length, found[0].Distinct().Count());
        for (var i = 0; i < keys.Length; i++)
        {
            Assert.Equal(found[0][i], table.Find(keys[i]));
        }
    }
}
