using EdgeSeg.Benchmarks;

// Each benchmark is a subcommand; add new ones to the switch.
var command = args.Length > 0 ? args[0] : "";
var rest = args.Length > 0 ? args[1..] : [];
return command switch
{
    "crf" => CrfBenchmark.Run(rest),
    "zones" => ZoneBenchmark.Run(rest),
    "soak" => SoakBenchmark.Run(rest),
    "profile" => ProfileBenchmark.Run(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: dotnet run -c Release --project tests/EdgeSeg.Benchmarks -- <benchmark> [options]

        benchmarks:
          crf   fast dense CRF on shared/reference/crf (512x256, 19 classes): ms per frame (p50, p95)
                for the plain argmax baseline and the CRF, side by side, with accuracy figures.
                --iterations 5,10   mean-field iterations to time (default 5,10)
                --frames N          timed frames per configuration (default 60)
                --threads N         CRF threads (default: all cores, at most 4)
                --scale S           CRF working scale (default: CrfOptions default)
                --prune P           CRF class pruning threshold (default: CrfOptions default)
                --margin M[,M…]     CRF copy margins to time side by side, 0 = update every pixel (default: CrfOptions default)
                --tolerance T       CRF copy colour tolerance (default: CrfOptions default)
                --shared DIR        the shared directory (default: $EDGESEG_SHARED_DIR or found upwards)
          zones per-zone counting (AreaCounter) against the whole-frame count, side by side, on rendered
                512x256 label maps: microseconds per frame and the ratio.
                --zones N           zones, overlapping (default 8)
                --rounds N          interleaved rounds (default 2000)
          soak  the service (edgeseg run, built first) for N minutes against a real RTSP camera that is
                killed and restarted, a synthetic camera, and a mosquitto that comes and goes: RSS over
                time, windows published / received / lost, reconnects.
                --minutes M         (default 60)
                --camera-period S, --camera-down S   (default 300, 20)
                --broker-period S, --broker-down S   (default 420, 30)
          profile  ONNX Runtime's kernel times on the CPU, summed per operator type and per node, in ms per
                frame, for one or more models run interleaved on the same input, side by side.
                --model FILE.onnx   (repeat to compare)
                --frames N          profiled frames per model (default 40; two more are run first)
                --threads N         intra-op threads (default 0: all cores)
                --top N             costliest nodes listed per model (default 12)
        """);
    return 2;
}
