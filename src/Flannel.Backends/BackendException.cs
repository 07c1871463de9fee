namespace Flannel.Backends;

/// <summary>A backend failed in a way the daemon cannot go on from (bad options, missing kernel support).</summary>
public sealed class BackendException : Exception
{
    public BackendException(string message) : base(message) { }
    public BackendException(string message, Exception inner) : base(message, inner) { }
    public BackendException() { }
}
