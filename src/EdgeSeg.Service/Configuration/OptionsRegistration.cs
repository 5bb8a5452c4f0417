using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EdgeSeg.Service.Configuration;

/// <summary>
/// How the appliance's options are bound and validated: the .NET options stack, with relative paths
/// resolved after binding and every validator's failures reported together.
/// </summary>
public static class OptionsRegistration
{
    /// <summary>
    /// Binds <see cref="EdgeSegOptions"/> to <paramref name="configuration"/>, resolves its relative paths
    /// against <paramref name="baseDirectory"/> (the config file's folder) and validates it at start
    /// with the attribute rules (<see cref="EdgeSegOptionsFieldValidator"/>) and the rules across fields
    /// (<see cref="EdgeSegOptionsValidator"/>).
    /// </summary>
    public static IServiceCollection AddEdgeSegOptions(this IServiceCollection services, IConfiguration configuration, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        // ErrorOnUnknownConfiguration stays off: the binder would stop at the first unknown key and hide
        // every other error; ConfigurationKeyChecker lists them all, with the keys that are known.
        services.AddOptions<EdgeSegOptions>().Bind(configuration).ValidateOnStart();
        services.AddSingleton<IPostConfigureOptions<EdgeSegOptions>>(new ResolveOptionPaths(baseDirectory));
        services.AddSingleton<IValidateOptions<EdgeSegOptions>, EdgeSegOptionsFieldValidator>();
        services.AddSingleton<IValidateOptions<EdgeSegOptions>>(new EdgeSegOptionsValidator(baseDirectory));
        return services;
    }
}

/// <summary>
/// Makes the file paths of bound options absolute: relative to the config file's folder (the model
/// also falls back to the install folder, where the bundled models are; empty is the bundled model).
/// </summary>
internal sealed class ResolveOptionPaths(string baseDirectory) : IPostConfigureOptions<EdgeSegOptions>
{
    public void PostConfigure(string? name, EdgeSegOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Model.Path = EdgeSegOptionsValidator.ResolveModelPath(options.Model.Path, baseDirectory);
        var mqtt = options.Mqtt;
        mqtt.PasswordFile = Resolve(mqtt.PasswordFile);
        mqtt.CaFile = Resolve(mqtt.CaFile);
        mqtt.ClientCertificateFile = Resolve(mqtt.ClientCertificateFile);
        mqtt.ClientKeyFile = Resolve(mqtt.ClientKeyFile);
        mqtt.SpoolPath = Resolve(mqtt.SpoolPath);
    }

    /// <summary>Empty stays empty (the feature is off).</summary>
    private string Resolve(string path) => path.Length == 0 ? path : Path.GetFullPath(path, baseDirectory);
}
