using System.Diagnostics.Metrics;
using EdgeSeg.Service.Http;
using EdgeSeg.Service.Tests.Infrastructure;
using Prometheus;

namespace EdgeSeg.Service.Tests.Http;

public sealed class PrometheusExportTests
{
    private static async Task<PrometheusText> CollectAsync(CollectorRegistry registry)
    {
        using var text = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(text);
        return PrometheusText.Parse(System.Text.Encoding.UTF8.GetString(text.ToArray()));
    }

    [Fact]
    public async Task Only_its_own_meter_is_exported_even_beside_another_of_the_same_name()
    {
        using var mine = new Meter("EdgeSeg");
        using var other = new Meter("EdgeSeg");
        mine.CreateObservableGauge("spool_depth", () => 3);
        other.CreateObservableGauge("spool_depth", () => 99);
        other.CreateObservableGauge("elsewhere", () => 1);
        using var export = new PrometheusExport(mine);

        var metrics = await CollectAsync(export.Registry);
        Assert.Equal(3, metrics.Value("edgeseg_spool_depth"));
        Assert.Empty(metrics.Find("edgeseg_elsewhere"));
        Assert.True(metrics.Value("process_working_set_bytes") > 0);
    }

    [Fact]
    public void A_latency_recorded_while_the_export_listens_allocates_next_to_nothing()
    {
        using var meter = new Meter("EdgeSeg");
        var histogram = meter.CreateHistogram<double>("inference_seconds", "s");
        using var export = new PrometheusExport(meter);
        var camera = new KeyValuePair<string, object?>("camera", "cam1");
        histogram.Record(0.01, camera);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            histogram.Record(0.01, camera);
        }

        // prometheus-net's lease bookkeeping allocates now and then, never per measurement.
        var perRecord = (GC.GetAllocatedBytesForCurrentThread() - before) / 10_000.0;
        Assert.True(perRecord < 1, $"{perRecord} bytes per measurement");
    }
}
