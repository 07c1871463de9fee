using System.Text.RegularExpressions;
using Flannel.Subnet.Ip;

namespace Flannel.Backends.Interfaces;

/// <summary>flanneld's external interface lookup (<c>pkg/ipmatch LookupExtIface</c>, compat §3).</summary>
public static class ExternalInterfaceSelector
{
    public static ExternalInterface Select(InterfaceOptions options, IInterfaceSource host)
    {
        Ip4Address? publicIp = null;
        if (!string.IsNullOrEmpty(options.PublicIp))
        {
            publicIp = Ip4Address.TryParse(options.PublicIp, out var p) ? p
                : throw new InterfaceSelectionException($"invalid --public-ip: {options.PublicIp} is not an IPv4 address");
        }
        var interfaces = host.List();
        var chosen = Find(options, interfaces, host, publicIp)
            ?? throw new InterfaceSelectionException(Describe(options) + "; interfaces here: " +
                string.Join(", ", interfaces.Select(i => $"{i.Name} [{string.Join(' ', i.Addresses)}]")));
        if (chosen.Iface.Mtu == 0)
        {
            throw new InterfaceSelectionException($"failed to determine MTU of interface {chosen.Iface.Name}");
        }
        var selected = new ExternalInterface(chosen.Iface.Name, chosen.Iface.Index, chosen.Iface.Mtu, chosen.Address, publicIp ?? chosen.Address)
        {
            Reason = chosen.Reason,
        };
        return options.Ipv6 ? WithIpv6(selected, chosen.Iface, options) : selected;
    }

    /// <summary>
    /// flanneld's dual-stack choice (pkg/ipmatch LookupExtIface): the chosen interface's first global IPv6 address
    /// (an <c>--iface</c> given as an IPv6 address of it wins), published as PublicIPv6 unless <c>--public-ipv6</c>
    /// says otherwise; an interface without one is an error.
    /// </summary>
    private static ExternalInterface WithIpv6(ExternalInterface selected, InterfaceCandidate iface, InterfaceOptions options)
    {
        Ip6Address? publicIpv6 = null;
        if (!string.IsNullOrEmpty(options.PublicIpv6))
        {
            publicIpv6 = Ip6Address.TryParse(options.PublicIpv6, out var p) ? p
                : throw new InterfaceSelectionException($"invalid public IPv6 address: {options.PublicIpv6} (--public-ipv6)");
        }
        Ip6Address? address6 = null;
        foreach (string spec in options.Ifaces)
        {
            if (Ip6Address.TryParse(spec, out var v6) && iface.Ipv6Addresses.Contains(v6))
            {
                address6 = v6;
                break;
            }
        }
        address6 ??= iface.Ipv6Addresses.Count > 0 ? iface.Ipv6Addresses[0] : null;
        if (address6 is null)
        {
            throw new InterfaceSelectionException($"failed to find IPv6 address for interface {iface.Name} (EnableIPv6 needs one on the external interface)");
        }
        return selected with { Address6 = address6, PublicIPv6 = publicIpv6 ?? address6 };
    }

    private static (InterfaceCandidate Iface, Ip4Address Address, string Reason)? Find(
        InterfaceOptions o, IReadOnlyList<InterfaceCandidate> interfaces, IInterfaceSource host, Ip4Address? publicIp)
    {
        bool anyOption = o.Ifaces.Count > 0 || o.IfaceRegexes.Count > 0 || !string.IsNullOrEmpty(o.IfaceCanReach);
        if (!anyOption)
        {
            if (publicIp is { } pub)
            {
                var owner = interfaces.FirstOrDefault(i => i.Addresses.Contains(pub));
                return owner is null ? null : (owner, pub, $"it has the --public-ip address {pub}");
            }
            string? name = host.DefaultRouteInterface();
            var iface = interfaces.FirstOrDefault(i => i.Name == name);
            return iface is null || FirstAddress(iface) is not { } a ? null : (iface, a, "it has the default route");
        }
        foreach (string spec in o.Ifaces)
        {
            if (Ip4Address.TryParse(spec, out var ip))
            {
                var owner = interfaces.FirstOrDefault(i => i.Addresses.Contains(ip));
                if (owner is not null)
                {
                    return (owner, ip, $"it has the --iface address {ip}");
                }
            }
            else if (Ip6Address.TryParse(spec, out var ip6))
            {
                // flanneld accepts an IPv6 address for --iface too: the interface that has it.
                if (interfaces.FirstOrDefault(i => i.Ipv6Addresses.Contains(ip6)) is { } owner && FirstAddress(owner) is { } a)
                {
                    return (owner, a, $"it has the --iface address {ip6}");
                }
            }
            else if (interfaces.FirstOrDefault(i => i.Name == spec) is { } byName && FirstAddress(byName) is { } a)
            {
                return (byName, a, $"--iface names it");
            }
        }
        foreach (string pattern in o.IfaceRegexes)
        {
            Regex re;
            try
            {
                re = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException e)
            {
                throw new InterfaceSelectionException($"invalid --iface-regex {pattern}: {e.Message}");
            }
            foreach (var i in interfaces)
            {
                foreach (var a in i.Addresses)
                {
                    if (re.IsMatch(a.ToString()))
                    {
                        return (i, a, $"its address {a} matches --iface-regex {pattern}");
                    }
                }
            }
            foreach (var i in interfaces)
            {
                if (re.IsMatch(i.Name) && FirstAddress(i) is { } a)
                {
                    return (i, a, $"its name matches --iface-regex {pattern}");
                }
            }
        }
        if (!string.IsNullOrEmpty(o.IfaceCanReach))
        {
            string? name = IpAddress.TryParse(o.IfaceCanReach, out var target) ? host.InterfaceToReach(target)
                : throw new InterfaceSelectionException($"invalid --iface-can-reach: {o.IfaceCanReach} is not an IP address");
            if (interfaces.FirstOrDefault(i => i.Name == name) is { } i && FirstAddress(i) is { } a)
            {
                return (i, a, $"the kernel routes {o.IfaceCanReach} (--iface-can-reach) through it");
            }
        }
        return null;
    }

    // flannel takes the first global unicast IPv4 address, else a link-local one.
    private static Ip4Address? FirstAddress(InterfaceCandidate i)
    {
        foreach (var a in i.Addresses)
        {
            if (!IsLinkLocal(a) && !IsLoopback(a))
            {
                return a;
            }
        }
        return i.Addresses.Count > 0 ? i.Addresses[0] : null;
    }

    private static bool IsLinkLocal(Ip4Address a) => (a.Value & 0xFFFF0000) == 0xA9FE0000;
    private static bool IsLoopback(Ip4Address a) => (a.Value >> 24) == 127;

    private static string Describe(InterfaceOptions o)
    {
        var parts = new List<string>();
        if (o.Ifaces.Count > 0)
        {
            parts.Add($"--iface {string.Join(',', o.Ifaces)}");
        }
        if (o.IfaceRegexes.Count > 0)
        {
            parts.Add($"--iface-regex {string.Join(',', o.IfaceRegexes)}");
        }
        if (!string.IsNullOrEmpty(o.IfaceCanReach))
        {
            parts.Add($"--iface-can-reach {o.IfaceCanReach}");
        }
        if (parts.Count == 0)
        {
            return string.IsNullOrEmpty(o.PublicIp)
                ? "failed to find the interface of the default route (no IPv4 default route with an address); pick one with --iface"
                : $"no interface has the --public-ip address {o.PublicIp}; pick one with --iface";
        }
        return "no interface matches " + string.Join(", ", parts);
    }
}
