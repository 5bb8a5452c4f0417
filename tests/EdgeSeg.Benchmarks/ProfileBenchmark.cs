using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeSeg.Benchmarks;

/// <summary>
/// Where a model's time goes on the CPU: ONNX Runtime's own profiler (kernel times per node), summed by
/// operator type and by node, in milliseconds per frame. Several models are run interleaved (A B B A …)
/// on the same input so that the machine's load hits them alike, and their totals are printed side by
/// side — the question this answers is which part of one design costs more than another's.
/// </summary>
internal static class ProfileBenchmark
{
    public static int Run(string[] args)
    {
        var models = new List<string>();
        var frames = 40;
        var threads = 0;
        var top = 12;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--model": models.Add(args[i + 1]); break;
                case "--frames": frames = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--top": top = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        if (models.Count == 0)
        {
            Console.Error.WriteLine("profile: give at least one --model FILE.onnx");
            return 2;
        }

        foreach (var m in models.Where(m => !File.Exists(m)))
        {
            Console.Error.WriteLine($"profile: model file not found: {m}");
            return 2;
        }

        var dir = Directory.CreateTempSubdirectory("edgeseg-profile-");
        var inv = CultureInfo.InvariantCulture;
        var load0 = File.ReadAllText("/proc/loadavg").Split(' ')[0];
        var runs = new List<ModelRun>();
        try
        {
            for (var k = 0; k < models.Count; k++)
            {
                runs.Add(new ModelRun(models[k], Path.Combine(dir.FullName, $"m{k}"), threads));
            }

            // Warm-up outside the measured rounds would still be profiled; the first two frames of each
            // model are dropped from the sums instead (see Summarise).
            for (var f = 0; f < frames + 2; f++)
            {
                var order = f % 2 == 0 ? runs : Enumerable.Reverse(runs);
                foreach (var run in order)
                {
                    run.Step();
                }
            }

            var summaries = runs.Select(r => r.Finish(skipFrames: 2)).ToList();
            Console.WriteLine(string.Create(inv, $"{frames} frames per model, interleaved; intra-op threads {(threads == 0 ? "all cores" : threads.ToString(inv))}; load average {load0} at the start, {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end"));
            for (var k = 0; k < runs.Count; k++)
            {
                Console.WriteLine(string.Create(inv, $"{(char)('A' + k)}  {models[k]}"));
            }

            Console.WriteLine();
            var opTypes = summaries.SelectMany(s => s.ByOp.Keys).Distinct()
                .OrderByDescending(op => summaries.Max(s => s.ByOp.GetValueOrDefault(op)))
                .ToList();
            var header = string.Concat(Enumerable.Range(0, runs.Count).Select(k => $"  {(char)('A' + k)} ms/frame"));
            Console.WriteLine($"{"operator",-28}{header}");
            foreach (var op in opTypes)
            {
                Console.WriteLine($"{op,-28}" + string.Concat(summaries.Select(s => string.Create(inv, $"  {s.ByOp.GetValueOrDefault(op) / frames,10:0.00}"))));
            }

            Console.WriteLine($"{"all kernels",-28}" + string.Concat(summaries.Select(s => string.Create(inv, $"  {s.ByOp.Values.Sum() / frames,10:0.00}"))));
            Console.WriteLine($"{"whole Run (wall)",-28}" + string.Concat(summaries.Select(s => string.Create(inv, $"  {s.RunTotal / frames,10:0.00}"))));
            for (var k = 0; k < summaries.Count; k++)
            {
                Console.WriteLine();
                Console.WriteLine($"{(char)('A' + k)}: the {top} costliest nodes");
                foreach (var (node, (op, ms)) in summaries[k].ByNode.OrderByDescending(n => n.Value.Ms).Take(top))
                {
                    Console.WriteLine(string.Create(inv, $"  {ms / frames,8:0.00} ms  {op,-22} {node}"));
                }
            }

            return 0;
        }
        finally
        {
            foreach (var run in runs)
            {
                run.Dispose();
            }

            dir.Delete(recursive: true);
        }
    }

    private sealed record Summary(Dictionary<string, double> ByOp, Dictionary<string, (string Op, double Ms)> ByNode, double RunTotal);

    private sealed class ModelRun : IDisposable
    {
        private readonly InferenceSession _session;
        private readonly string _input;
        private readonly DenseTensor<float> _tensor;
        private bool _finished;

        public ModelRun(string path, string profilePrefix, int threads)
        {
            using var so = new SessionOptions
            {
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                IntraOpNumThreads = threads,
                InterOpNumThreads = 1,
                ProfileOutputPathPrefix = profilePrefix,
            };
            so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            so.EnableProfiling = true;
            _session = new InferenceSession(path, so);
            var meta = _session.InputMetadata.Single();
            _input = meta.Key;
            var dims = meta.Value.Dimensions.Select(d => d > 0 ? d : 1).ToArray();
            _tensor = new DenseTensor<float>(dims);
            var rng = new Random(7);
            var span = _tensor.Buffer.Span;
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (float)((rng.NextDouble() * 4) - 2);
            }
        }

        public void Step()
        {
            using var outputs = _session.Run([NamedOnnxValue.CreateFromTensor(_input, _tensor)]);
        }

        public Summary Finish(int skipFrames)
        {
            var file = _session.EndProfiling();
            _finished = true;
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            var byOp = new Dictionary<string, double>();
            var byNode = new Dictionary<string, (string, double)>();
            var runTotal = 0.0;
            var runIndex = -1;
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                var name = e.GetProperty("name").GetString() ?? "";
                var cat = e.GetProperty("cat").GetString();
                var ms = e.GetProperty("dur").GetDouble() / 1000;
                if (cat == "Session" && name == "model_run")
                {
                    runIndex++;
                    if (runIndex >= skipFrames)
                    {
                        runTotal += ms;
                    }

                    continue;
                }

                // Node events of a run come before its model_run event: runIndex + 1 is their run.
                if (cat != "Node" || !name.EndsWith("_kernel_time", StringComparison.Ordinal) || runIndex + 1 < skipFrames)
                {
                    continue;
                }

                var op = e.GetProperty("args").GetProperty("op_name").GetString() ?? "?";
                var node = name[..^"_kernel_time".Length];
                byOp[op] = byOp.GetValueOrDefault(op) + ms;
                byNode[node] = (op, byNode.GetValueOrDefault(node).Item2 + ms);
            }

            File.Delete(file);
            return new Summary(byOp, byNode, runTotal);
        }

        public void Dispose()
        {
            if (!_finished)
            {
                _session.EndProfiling();
            }

            _session.Dispose();
        }
    }
}
