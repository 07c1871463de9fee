using Flannel.Subnet.Ip;

namespace Flannel.Backends.Interfaces;

/// <summary>The monitor's decisions, as pure functions over what the host shows.</summary>
internal static class ExternalInterfaceCheck
{
    /// <summary>
    /// The interface flanneld's rules choose now, or null with the reason. When they choose none but the running
    /// interface is still there with its address (the default route went with a link flap and was not put back, say)
    /// the running one is kept: a daemon must not lose its interface to a missing default route it never needed.
    /// </summary>
    public static ExternalInterface? Resolve(InterfaceOptions options, IInterfaceSource host, ExternalInterface running, out string? problem)
    {
        problem = null;
        try
        {
            return ExternalInterfaceSelector.Select(options, host);
        }
        catch (InterfaceSelectionException e)
        {
            var same = host.List().FirstOrDefault(i => i.Name == running.Name);
            if (same is not null && same.Addresses.Contains(running.Address) && same.Mtu > 0)
            {
                return running with { Index = same.Index, Mtu = same.Mtu };
            }
            problem = same is null ? $"{running.Name} does not exist" : $"{running.Name} has no usable IPv4 address ({e.Message})";
            return null;
        }
    }

    /// <summary>
    /// Compares what the host shows with what the backend runs on. <paramref name="lostBefore"/>: a loss was seen
    /// since (an event, or an earlier look), so a usable interface now is a change even when it looks the same: the
    /// kernel dropped the routes through it when it went down or lost its address.
    /// </summary>
    public static InterfaceVerdict Decide(ExternalInterface running, ExternalInterface? now, bool linkUp, bool lostBefore)
    {
        if (now is null || !linkUp)
        {
            return InterfaceVerdict.Lost;
        }
        if (lostBefore || now.Index != running.Index || now.Address != running.Address || now.PublicIP != running.PublicIP || now.Mtu != running.Mtu)
        {
            return InterfaceVerdict.Changed;
        }
        return InterfaceVerdict.Unchanged;
    }

    /// <summary>What differs, for the log ("address 198.51.100.1 -> 198.51.100.7, index 3 -> 9").</summary>
    public static string Describe(ExternalInterface before, ExternalInterface after)
    {
        var parts = new List<string>();
        if (before.Index != after.Index)
        {
            parts.Add($"index {before.Index} -> {after.Index}");
        }
        if (before.Address != after.Address)
        {
            parts.Add($"address {before.Address} -> {after.Address}");
        }
        if (before.PublicIP != after.PublicIP)
        {
            parts.Add($"PublicIP {before.PublicIP} -> {after.PublicIP}");
        }
        if (before.Mtu != after.Mtu)
        {
            parts.Add($"MTU {before.Mtu} -> {after.Mtu}");
        }
        return parts.Count == 0 ? "same index and address" : string.Join(", ", parts);
    }

    /// <summary>Whether a removed address is the one the backend runs on.</summary>
    public static bool IsOurAddress(ExternalInterface running, int linkIndex, IpAddress address) =>
        linkIndex == running.Index && (address == running.Address || (running.Address6 is { } v6 && address == v6));
}
