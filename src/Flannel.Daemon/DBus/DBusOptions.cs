namespace Flannel.Daemon.DBus;

/// <summary>Which host services flanneld talks to over the system bus (each part has its own opt-out flag).</summary>
internal sealed record DBusOptions
{
    /// <summary><c>--firewalld</c>: open the backend's UDP port in the external interface's zone (runtime only).</summary>
    public bool Firewalld { get; init; } = true;

    /// <summary><c>--networkmanager-unmanaged</c>: tell NetworkManager to leave the flannel device alone.</summary>
    public bool NetworkManagerUnmanaged { get; init; } = true;

    /// <summary><c>--restart-docker-on-subnet-change</c>: restart docker.service when our subnet (its --bip) changed.</summary>
    public bool RestartDockerOnSubnetChange { get; init; }

    /// <summary>The bus to use; null means the system bus ($DBUS_SYSTEM_BUS_ADDRESS or /var/run/dbus/system_bus_socket).</summary>
    public string? BusAddress { get; init; }

    /// <summary>How long connecting may take; a missing socket fails at once, a hung bus daemon must not stall us.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long one call may take (firewalld reloading its rules can take seconds).</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(15);

    public bool AnyEnabled => Firewalld || NetworkManagerUnmanaged || RestartDockerOnSubnetChange;
}
