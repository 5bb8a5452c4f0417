using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace EdgeSeg.Service.Mqtt;

/// <summary>A message waiting in the spool.</summary>
public sealed record SpooledMessage(long Id, string Topic, byte[] Payload, DateTimeOffset Enqueued);

/// <summary>
/// Store and forward for statistics and events: every message is written to an SQLite database (WAL,
/// synchronous FULL: once <see cref="Enqueue"/> returns the message survives a crash or power cut) and
/// removed only when the broker has acknowledged it, so a broker outage, a stop during the outage and a
/// restart lose nothing, and delivery stays in order. Bounded by count and age: beyond either the oldest
/// messages go, are counted, and the first drop of an episode (until the spool empties) is logged.
/// SQLite rather than hand-written segment files: its journal already gives atomic appends and deletes
/// across crashes, and the rate here (a window per camera every few seconds) is far below its cost.
/// Thread-safe.
/// </summary>
public sealed class MessageSpool : IDisposable
{
    private readonly SqliteConnection _db;
    private readonly Lock _lock = new();
    private readonly int _capacity;
    private readonly TimeSpan _maxAge;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _available = new(0);
    private long _dropped;
    private bool _dropEpisode;

    /// <param name="path">Database file; empty keeps the spool in memory (lost at a restart).</param>
    /// <param name="capacity">Most messages kept.</param>
    /// <param name="maxAge">Oldest message kept.</param>
    /// <param name="logger">Where drops are reported.</param>
    /// <param name="time">Clock (a fake one in tests).</param>
    public MessageSpool(string path, int capacity, TimeSpan maxAge, ILogger logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        _capacity = capacity;
        _maxAge = maxAge;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        Path = path;
        if (path.Length > 0)
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        }

        _db = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path.Length > 0 ? path : ":memory:",
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString());
        _db.Open();
        Execute(path.Length > 0 ? "PRAGMA journal_mode=WAL" : "PRAGMA journal_mode=MEMORY");
        Execute("PRAGMA synchronous=FULL");
        Execute("CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY AUTOINCREMENT, enqueued INTEGER NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL)");
        Execute("CREATE INDEX IF NOT EXISTS spool_enqueued ON spool (enqueued)");
        if (Depth > 0)
        {
            _available.Release();
            _logger.LogInformation("MQTT spool {Path}: {Count} messages from before the restart wait to be delivered", path, Depth);
        }
    }

    public string Path { get; }

    /// <summary>Messages waiting.</summary>
    public long Depth
    {
        get
        {
            lock (_lock)
            {
                return Scalar("SELECT COUNT(*) FROM spool");
            }
        }
    }

    /// <summary>Age of the oldest waiting message, or zero when none waits.</summary>
    public TimeSpan OldestAge
    {
        get
        {
            lock (_lock)
            {
                var oldest = Scalar("SELECT COALESCE(MIN(enqueued), 0) FROM spool");
                return oldest == 0 ? TimeSpan.Zero : _time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(oldest);
            }
        }
    }

    /// <summary>Messages dropped (spool full or too old) since the process started.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Writes a message durably; drops the oldest beyond the limits.</summary>
    public void Enqueue(string topic, byte[] payload)
    {
        lock (_lock)
        {
            using (var insert = _db.CreateCommand())
            {
                insert.CommandText = "INSERT INTO spool (enqueued, topic, payload) VALUES ($t, $topic, $payload)";
                insert.Parameters.AddWithValue("$t", _time.GetUtcNow().ToUnixTimeMilliseconds());
                insert.Parameters.AddWithValue("$topic", topic);
                insert.Parameters.AddWithValue("$payload", payload);
                insert.ExecuteNonQuery();
            }

            Trim(byCount: true);
        }

        if (_available.CurrentCount == 0)
        {
            _available.Release();
        }
    }

    /// <summary>The oldest waiting message, waiting for one to arrive when the spool is empty.</summary>
    public async Task<SpooledMessage> PeekAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            lock (_lock)
            {
                Trim(byCount: false);
                using var select = _db.CreateCommand();
                select.CommandText = "SELECT id, topic, payload, enqueued FROM spool ORDER BY id LIMIT 1";
                using var reader = select.ExecuteReader();
                if (reader.Read())
                {
                    return new SpooledMessage(reader.GetInt64(0), reader.GetString(1), (byte[])reader.GetValue(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)));
                }

                _dropEpisode = false;
            }

            await _available.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The broker has the message: it leaves the spool.</summary>
    public void Acknowledge(long id)
    {
        lock (_lock)
        {
            using var delete = _db.CreateCommand();
            delete.CommandText = "DELETE FROM spool WHERE id = $id";
            delete.Parameters.AddWithValue("$id", id);
            delete.ExecuteNonQuery();
        }
    }

    public void Dispose()
    {
        _db.Dispose();
        _available.Dispose();
    }

    /// <summary>
    /// Drops what is too old and, after an insert (the only way the count grows), what is beyond the count
    /// (caller holds the lock). Both deletes walk an index from the oldest end, so draining a long backlog
    /// does not rescan it for every message.
    /// </summary>
    private void Trim(bool byCount)
    {
        long removed = 0;
        if (_maxAge > TimeSpan.Zero)
        {
            using var old = _db.CreateCommand();
            old.CommandText = "DELETE FROM spool WHERE enqueued < $limit";
            old.Parameters.AddWithValue("$limit", (_time.GetUtcNow() - _maxAge).ToUnixTimeMilliseconds());
            removed += old.ExecuteNonQuery();
        }

        if (byCount)
        {
            // Rows leave only from the oldest end (acknowledged or trimmed), so the ids in the table are one
            // unbroken range and the newest `capacity` of them are those above max(id) − capacity.
            using var excess = _db.CreateCommand();
            excess.CommandText = "DELETE FROM spool WHERE id <= (SELECT MAX(id) FROM spool) - $capacity";
            excess.Parameters.AddWithValue("$capacity", _capacity);
            removed += excess.ExecuteNonQuery();
        }

        if (removed == 0)
        {
            return;
        }

        Interlocked.Add(ref _dropped, removed);
        if (!_dropEpisode)
        {
            _dropEpisode = true;
            _logger.LogWarning(
                "MQTT spool {Path}: full or expired (at most {Capacity} messages, {Hours:0.#} h); dropping the oldest, {Dropped} so far (logged once until the spool empties)",
                Path.Length > 0 ? Path : "(memory)", _capacity, _maxAge.TotalHours, Dropped);
        }
    }

    private void Execute(string sql)
    {
        using var command = _db.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private long Scalar(string sql)
    {
        using var command = _db.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
