using System.Globalization;
using System.Text;

namespace EdgeSeg.Service.Tests.Infrastructure;

/// <summary>One sample line of the Prometheus text exposition format.</summary>
internal sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// A strict reader of the Prometheus text exposition format, version 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/): every line is a <c># HELP</c>, a
/// <c># TYPE</c>, another comment, blank, or a sample <c>name{label="value",…} value [timestamp]</c>;
/// anything else fails with its line number, as a scraper would refuse it.
/// </summary>
internal sealed class PrometheusText
{
    private static readonly string[] Types = ["counter", "gauge", "histogram", "summary", "untyped"];

    private PrometheusText(IReadOnlyDictionary<string, string> types, IReadOnlyList<PrometheusSample> samples)
    {
        TypeOf = types;
        Samples = samples;
    }

    /// <summary>Metric family → its declared type.</summary>
    public IReadOnlyDictionary<string, string> TypeOf { get; }

    public IReadOnlyList<PrometheusSample> Samples { get; }

    public static PrometheusText Parse(string text)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new List<PrometheusSample>();
        var lines = text.Split('\n');
        for (var n = 0; n < lines.Length; n++)
        {
            var line = lines[n];
            if (line.Length == 0)
            {
                continue;
            }

            if (line[0] == '#')
            {
                var parts = line.Split(' ', 4);
                if (parts.Length >= 4 && parts[1] == "TYPE")
                {
                    if (!Types.Contains(parts[3]) || !IsName(parts[2]) || !types.TryAdd(parts[2], parts[3]))
                    {
                        throw new FormatException($"line {n + 1}: bad or repeated TYPE line '{line}'");
                    }
                }
                else if (parts.Length >= 3 && parts[1] == "HELP" && !IsName(parts[2]))
                {
                    throw new FormatException($"line {n + 1}: bad HELP line '{line}'");
                }

                continue;
            }

            samples.Add(ParseSample(line, n + 1));
        }

        return new PrometheusText(types, samples);
    }

    /// <summary>The samples named <paramref name="name"/> whose labels include <paramref name="labels"/>.</summary>
    public IEnumerable<PrometheusSample> Find(string name, params (string Key, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value));

    /// <summary>The one sample's value; fails when there is none or several.</summary>
    public double Value(string name, params (string Key, string Value)[] labels)
    {
        var found = Find(name, labels).ToList();
        return found.Count == 1
            ? found[0].Value
            : throw new InvalidOperationException($"{found.Count} samples of {name}{{{string.Join(",", labels.Select(l => $"{l.Key}=\"{l.Value}\""))}}}");
    }

    private static PrometheusSample ParseSample(string line, int number)
    {
        var i = 0;
        while (i < line.Length && line[i] is not ('{' or ' '))
        {
            i++;
        }

        var name = line[..i];
        if (!IsName(name))
        {
            throw new FormatException($"line {number}: '{name}' is not a metric name");
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (i < line.Length && line[i] != '}')
            {
                var start = i;
                while (i < line.Length && line[i] != '=')
                {
                    i++;
                }

                var key = line[start..i];
                if (!IsName(key) || i + 1 >= line.Length || line[i + 1] != '"')
                {
                    throw new FormatException($"line {number}: bad label at column {start + 1}");
                }

                i += 2;
                var value = new StringBuilder();
                while (i < line.Length && line[i] != '"')
                {
                    if (line[i] == '\\' && i + 1 < line.Length)
                    {
                        i++;
                        value.Append(line[i] switch { 'n' => '\n', var c => c });
                    }
                    else
                    {
                        value.Append(line[i]);
                    }

                    i++;
                }

                if (i >= line.Length || !labels.TryAdd(key, value.ToString()))
                {
                    throw new FormatException($"line {number}: unterminated or repeated label '{key}'");
                }

                i++;
                if (i < line.Length && line[i] == ',')
                {
                    i++;
                }
            }

            if (i >= line.Length)
            {
                throw new FormatException($"line {number}: unterminated label set");
            }

            i++;
        }

        var rest = line[i..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (rest.Length is < 1 or > 2 || !TryValue(rest[0], out var sample) || (rest.Length == 2 && !long.TryParse(rest[1], CultureInfo.InvariantCulture, out _)))
        {
            throw new FormatException($"line {number}: expected a value and an optional timestamp after the name, got '{line[i..]}'");
        }

        return new PrometheusSample(name, labels, sample);
    }

    /// <summary>A sample value or a bucket's <c>le</c>: a float, <c>+Inf</c>, <c>-Inf</c> or <c>NaN</c>.</summary>
    public static bool TryValue(string text, out double value)
    {
        switch (text)
        {
            case "+Inf":
                value = double.PositiveInfinity;
                return true;
            case "-Inf":
                value = double.NegativeInfinity;
                return true;
            case "NaN":
                value = double.NaN;
                return true;
            default:
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }
    }

    private static bool IsName(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] is '_' or ':') && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ':');
}
