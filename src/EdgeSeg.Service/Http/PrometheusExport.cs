using System.Diagnostics.Metrics;
using EdgeSeg.Pipeline.Processing;
using Prometheus;

namespace EdgeSeg.Service.Http;

/// <summary>
/// The Prometheus side of the appliance's meter: a registry of its own (never prometheus-net's static
/// default one, which would also publish every other meter in the process) fed by prometheus-net's
/// <see cref="MeterAdapter"/> from the appliance's meter only, plus prometheus-net's process metrics
/// (<c>process_cpu_seconds_total</c>, <c>process_working_set_bytes</c>, …). Listening starts with it
/// and stops when it is disposed, so a disabled endpoint leaves the meter without a listener.
/// </summary>
internal sealed class PrometheusExport : IDisposable
{
    private readonly IDisposable _adapter;

    public PrometheusExport(Meter meter)
    {
        Registry = Metrics.NewCustomRegistry();
        DotNetStats.Register(Registry);
        _adapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = Registry,
            MetricFactory = Metrics.WithCustomRegistry(Registry),
            InstrumentFilterPredicate = instrument => ReferenceEquals(instrument.Meter, meter),
            ResolveHistogramBuckets = _ => [.. PipelineMetrics.LatencyBuckets],
            // The adapter forgets series not updated for this long (the most it allows); observable
            // instruments are read at every scrape, so only a camera's idle CRF histogram can expire.
            MetricsExpireAfter = TimeSpan.FromDays(1),
        });
    }

    public CollectorRegistry Registry { get; }

    public void Dispose() => _adapter.Dispose();
}
