namespace Flannel.Daemon.Rules;

/// <summary>The packet-filter rules could not be applied or read.</summary>
internal sealed class RulesException : Exception
{
    public RulesException() { }
    public RulesException(string message) : base(message) { }
    public RulesException(string message, Exception inner) : base(message, inner) { }
}
