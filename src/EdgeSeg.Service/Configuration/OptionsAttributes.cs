using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace EdgeSeg.Service.Configuration;

/// <summary>
/// The configuration path of the member a source-generated options validator is checking:
/// <c>Cameras[1].MaxFps</c>. The generator names members from the options type down
/// (<c>EdgeSegOptions.Cameras[1].MaxFps</c>); the file's own keys start one level below.
/// </summary>
internal static class OptionsPath
{
    public static string Of(ValidationContext context)
    {
        var name = context.DisplayName ?? context.MemberName ?? string.Empty;
        var root = nameof(EdgeSegOptions) + ".";
        return name.StartsWith(root, StringComparison.Ordinal) ? name[root.Length..] : name;
    }
}

/// <summary>
/// A number within bounds, reported as <c>Path: must be …, got VALUE</c> (DataAnnotations' own
/// <see cref="RangeAttribute"/> message names neither the configuration path nor the value).
/// Null (an optional value left out) is valid; NaN and infinities are not.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class InRangeAttribute(double minimum, double maximum) : ValidationAttribute
{
    public double Minimum { get; } = minimum;

    public double Maximum { get; } = maximum;

    /// <summary>The lower bound itself is refused ("above 0").</summary>
    public bool MinimumExclusive { get; init; }

    /// <summary>What is accepted, in the user's words ("0 (all cores) .. 256"); default "MIN..MAX" or "above MIN and at most MAX".</summary>
    public string? Accepts { get; init; }

    /// <summary>Unit appended to the default description ("frames per second").</summary>
    public string? Unit { get; init; }

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        ArgumentNullException.ThrowIfNull(validationContext);
        if (value is null)
        {
            return ValidationResult.Success;
        }

        var number = Convert.ToDouble(value, CultureInfo.InvariantCulture);
        var inside = (MinimumExclusive ? number > Minimum : number >= Minimum) && number <= Maximum;
        if (inside)
        {
            return ValidationResult.Success;
        }

        var accepts = Accepts ?? (MinimumExclusive
            ? string.Create(CultureInfo.InvariantCulture, $"above {Minimum} and at most {Maximum}")
            : string.Create(CultureInfo.InvariantCulture, $"{Minimum}..{Maximum}"));
        var unit = Unit is null ? string.Empty : " " + Unit;
        return new ValidationResult(string.Create(
            CultureInfo.InvariantCulture, $"{OptionsPath.Of(validationContext)}: must be {accepts}{unit}, got {value}"));
    }
}

/// <summary>A value used as one MQTT topic level: 1..64 characters, no separators, wildcards or spaces.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class TopicLevelAttribute : ValidationAttribute
{
    /// <summary>Why <paramref name="value"/> cannot be a topic level, or null when it can.</summary>
    public static string? Problem(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return "required, must not be empty";
        }

        return value.Any(c => c is '/' or '+' or '#' or '\0' || char.IsWhiteSpace(c) || char.IsControl(c)) || value.Length > 64
            ? $"'{value}' must be 1..64 characters without '/', '+', '#' or spaces (it is an MQTT topic level)"
            : null;
    }

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        ArgumentNullException.ThrowIfNull(validationContext);
        return Problem(value as string) is { } problem
            ? new ValidationResult($"{OptionsPath.Of(validationContext)}: {problem}")
            : ValidationResult.Success;
    }
}

/// <summary>A value from a fixed list, compared exactly.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class OneOfAttribute(params string[] accepted) : ValidationAttribute
{
    public IReadOnlyList<string> Accepted { get; } = accepted;

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        ArgumentNullException.ThrowIfNull(validationContext);
        return value is string s && Accepted.Contains(s, StringComparer.Ordinal)
            ? ValidationResult.Success
            : new ValidationResult($"{OptionsPath.Of(validationContext)}: must be {string.Join(" or ", Accepted.Select(a => $"\"{a}\""))}, got '{value}'");
    }
}
