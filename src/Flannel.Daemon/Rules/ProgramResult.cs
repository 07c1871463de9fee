namespace Flannel.Daemon.Rules;

/// <summary>The result of a host program run by the rules code.</summary>
internal sealed record ProgramResult(int ExitCode, string Stdout, string Stderr);
