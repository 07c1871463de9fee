namespace Flannel.Daemon.Cli;

internal sealed class FlagException : Exception
{
    public FlagException(string message, bool isHelp) : base(message) => IsHelp = isHelp;
    public FlagException(string message) : base(message) { }
    public FlagException() { }
    public FlagException(string message, Exception inner) : base(message, inner) { }

    public bool IsHelp { get; }
}
