using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using EdgeSeg.Service.Configuration;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Formatter;

namespace EdgeSeg.Service.Mqtt;

/// <summary>
/// Turns <see cref="MqttOptions"/> into MQTTnet's client options: protocol version, credentials (the
/// password from the configuration, a file or a systemd credential; never logged), and TLS with the
/// system's trust store or a CA file of the operator's, an optional client certificate, and the server
/// name checked against the broker's certificate.
/// </summary>
internal static class MqttConnection
{
    public static void Configure(MqttClientOptionsBuilder builder, MqttOptions options, ILogger logger)
    {
        builder.WithProtocolVersion(options.ProtocolVersion == "3.1.1" ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500);
        if (options.Username.Length > 0)
        {
            builder.WithCredentials(options.Username, Password(options));
        }

        if (!options.UseTls)
        {
            return;
        }

        var trust = options.CaFile.Length > 0 ? LoadPemCertificates(options.CaFile) : null;
        var client = options.ClientCertificateFile.Length > 0
            ? X509Certificate2.CreateFromPemFile(options.ClientCertificateFile, options.ClientKeyFile)
            : null;
        if (options.AllowUntrustedCertificates)
        {
            logger.LogWarning("MQTT: AllowUntrustedCertificates is on: any broker certificate is accepted (for test rigs only)");
        }

        builder.WithTlsOptions(tls =>
        {
            tls.UseTls()
               .WithTargetHost(options.ServerName.Length > 0 ? options.ServerName : options.Host)
               .WithCertificateValidationHandler(e => Validate(e.Certificate, e.SslPolicyErrors, trust, options.AllowUntrustedCertificates, logger));
            if (client is not null)
            {
                tls.WithClientCertificates([client]);
            }
        });
    }

    /// <summary>The password from wherever the configuration says it is.</summary>
    public static string Password(MqttOptions options)
    {
        if (options.PasswordFile.Length > 0)
        {
            return FirstLine(File.ReadAllText(options.PasswordFile));
        }

        if (options.PasswordCredential.Length > 0)
        {
            var dir = Environment.GetEnvironmentVariable("CREDENTIALS_DIRECTORY") ?? string.Empty;
            return FirstLine(File.ReadAllText(Path.Combine(dir, options.PasswordCredential)));
        }

        return options.Password;
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].TrimEnd('\r');

    private static X509Certificate2Collection LoadPemCertificates(string path)
    {
        var collection = new X509Certificate2Collection();
        collection.ImportFromPemFile(path);
        return collection;
    }

    /// <summary>
    /// With a CA file, the broker's certificate must chain to one of its certificates (and to nothing
    /// else: the system store is not consulted) and carry the server name; without one, the system's
    /// verdict stands. Revocation is not checked: an appliance on a closed network cannot reach CRLs.
    /// </summary>
    private static bool Validate(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection? trust, bool allowUntrusted, ILogger logger)
    {
        if (allowUntrusted)
        {
            return true;
        }

        if (certificate is null)
        {
            logger.LogError("MQTT: the broker presented no certificate");
            return false;
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            logger.LogError("MQTT: the broker's certificate does not name this host (set Mqtt.ServerName to the name it carries)");
            return false;
        }

        if (trust is null)
        {
            if (errors != SslPolicyErrors.None)
            {
                logger.LogError("MQTT: the broker's certificate is not trusted by this system ({Errors}); give its CA in Mqtt.CaFile", errors);
            }

            return errors == SslPolicyErrors.None;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trust);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var server = new X509Certificate2(certificate);
        if (chain.Build(server))
        {
            return true;
        }

        logger.LogError("MQTT: the broker's certificate does not chain to Mqtt.CaFile: {Status}",
            string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim())));
        return false;
    }
}
