namespace EdgeSeg.Service.Cli;

/// <summary>Process exit codes (sysexits.h), which systemd's RestartPreventExitStatus relies on.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>Runtime failure: systemd restarts the service.</summary>
    public const int Failure = 1;

    /// <summary>EX_USAGE: bad command line.</summary>
    public const int Usage = 64;

    /// <summary>EX_UNAVAILABLE: a needed service (broker for the demo) could not be started.</summary>
    public const int Unavailable = 69;

    /// <summary>EX_CONFIG: invalid configuration or model; restarting would not help.</summary>
    public const int Config = 78;
}
