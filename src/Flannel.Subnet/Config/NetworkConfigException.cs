namespace Flannel.Subnet.Config;

/// <summary>The config is invalid; the message is flanneld's wording where flanneld has one.</summary>
public sealed class NetworkConfigException : Exception
{
    public NetworkConfigException(string message) : base(message) { }
    public NetworkConfigException(string message, Exception inner) : base(message, inner) { }
    public NetworkConfigException() { }
}
