using System.Numerics;
using System.Runtime.CompilerServices;

namespace EdgeSeg.Pipeline.Refinement;

/// <summary>
/// The lattice's open-addressing hash table: packed vertex key → vertex id, linear probing from a
/// multiplicative hash, capacity a power of two. Key 0 marks an empty slot (a packed key is never 0:
/// every coordinate carries <see cref="PermutohedralLattice.FieldBias"/>). An id is stored as id + 1,
/// so that 0 means "claimed, id not yet published" while several workers insert at once.
/// </summary>
internal sealed class VertexTable
{
    /// <summary>Fibonacci hashing multiplier (2⁶⁴/φ): the top bits of key × this spread packed keys well.</summary>
    public const ulong HashMultiplier = 0x9E3779B97F4A7C15UL;

    /// <summary>The id published for a slot whose vertex was never created (the concurrent insertion ran out of room).</summary>
    public const int Abandoned = int.MaxValue - 1;

    private long[] _keys = [];
    private int[] _ids = [];
    private int _shift;
    private int _mask;

    /// <summary>Number of slots.</summary>
    public int Capacity => _keys.Length;

    /// <summary>
    /// Empties the table with room for at least <paramref name="capacity"/> slots (rounded up to a
    /// power of two). It never shrinks, so that a warm lattice allocates nothing per frame.
    /// </summary>
    public void Reset(int capacity)
    {
        capacity = Math.Max((int)BitOperations.RoundUpToPowerOf2((uint)capacity), _keys.Length);
        if (_keys.Length != capacity)
        {
            _keys = new long[capacity];
            _ids = new int[capacity];
        }
        else
        {
            Array.Clear(_keys);
            Array.Clear(_ids);
        }

        _mask = capacity - 1;
        _shift = 64 - BitOperations.Log2((uint)capacity);
    }

    /// <summary>
    /// The probe every lookup and insertion shares: true with the slot that holds
    /// <paramref name="key"/>, false with the empty slot where it would go. The keys are read
    /// volatile because workers claim slots while others probe (a plain load on x64).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Probe(long key, out int slot)
    {
        var keys = _keys;
        slot = (int)(((ulong)key * HashMultiplier) >> _shift);
        while (true)
        {
            var k = Volatile.Read(ref keys[slot]);
            if (k == key)
            {
                return true;
            }

            if (k == 0)
            {
                return false;
            }

            slot = (slot + 1) & _mask;
        }
    }

    /// <summary>Id of the vertex with <paramref name="key"/>, −1 when it is not in the table.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(long key) => Probe(key, out var slot) ? _ids[slot] - 1 : -1;

    /// <summary>Id stored in a slot <see cref="Probe"/> found (serial use: the id is there).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int IdAt(int slot) => _ids[slot] - 1;

    /// <summary>Stores a new vertex in the empty slot <see cref="Probe"/> returned (serial use).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Insert(int slot, long key, int id)
    {
        _keys[slot] = key;
        _ids[slot] = id + 1;
    }

    /// <summary>
    /// Claims the empty slot <see cref="Probe"/> returned for <paramref name="key"/> by a
    /// compare-and-swap; false when another worker claimed it first (probe again: it may have
    /// inserted the same key).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryClaim(int slot, long key) => Interlocked.CompareExchange(ref _keys[slot], key, 0) == 0;

    /// <summary>Publishes the id of a claimed slot, after the vertex's key has been recorded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Publish(int slot, int id) => Volatile.Write(ref _ids[slot], id + 1);

    /// <summary>
    /// Id of a slot that holds its key, waiting for the worker that claimed it to publish the id (a
    /// few instructions away on the other thread).
    /// </summary>
    public int WaitForId(int slot)
    {
        var published = Volatile.Read(ref _ids[slot]);
        while (published == 0)
        {
            Thread.SpinWait(1);
            published = Volatile.Read(ref _ids[slot]);
        }

        return published - 1;
    }
}
