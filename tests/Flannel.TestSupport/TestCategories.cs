using System.Reflection;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Flannel.TestSupport;

/// <summary>
/// What a test needs to run, as the xunit trait <c>Category</c> (so <c>dotnet test --filter Category=Unit</c>):
/// <list type="bullet">
/// <item><c>Unit</c> (<see cref="UnitAttribute"/>): nothing beyond <c>dotnet build</c>; passes as a normal user. It may use
/// temp files, loopback sockets, a private dbus-daemon, the shell scripts and tools of the repository and the app host
/// <c>flanneld</c> built next to the tests.</item>
/// <item><c>Root</c> (<see cref="NeedsRootAttribute"/>): root: network namespaces, TUN devices, netlink changes,
/// iptables/nft, systemd-nspawn.</item>
/// <item><c>Etcd</c> (<see cref="NeedsEtcdAttribute"/>): starts Debian's etcd (etcd-server).</item>
/// <item><c>Docker</c> (<see cref="NeedsDockerAttribute"/>): runs dockerd (docker.io).</item>
/// <item><c>Binary</c> (<see cref="NeedsBinaryAttribute"/>): the published native flanneld in <c>$FLANNELD_BINARY</c>
/// (scripts/publish.sh), e.g. to package it.</item>
/// </list>
/// Put one on the test class, or, in a class whose tests need different things, on each test method; every test has
/// at least one, and <c>Unit</c> goes with no other (<see cref="Problems"/> checks both).
/// </summary>
public static class TestCategories
{
    public const string Trait = "Category";
    public const string Unit = "Unit", Root = "Root", Etcd = "Etcd", Docker = "Docker", Binary = "Binary";

    public static IReadOnlyList<string> All { get; } = [Unit, Root, Etcd, Docker, Binary];

    /// <summary>
    /// Every test method in <paramref name="assembly"/> (a <see cref="FactAttribute"/> or <see cref="TheoryAttribute"/>)
    /// without a category, with an unknown one, or with <c>Unit</c> and another one: one line each.
    /// </summary>
    public static IReadOnlyList<string> Problems(Assembly assembly)
    {
        var problems = new List<string>();
        foreach (var type in assembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false }))
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            {
                if (method.GetCustomAttribute<FactAttribute>() is null)
                {
                    continue;
                }
                var categories = Of(type).Concat(Of(method)).Distinct(StringComparer.Ordinal).ToList();
                string name = $"{type.FullName}.{method.Name}";
                if (categories.Count == 0)
                {
                    problems.Add($"{name}: no category ([Unit], [NeedsRoot], [NeedsEtcd], [NeedsDocker] or [NeedsBinary] on the class or the method)");
                }
                foreach (var unknown in categories.Where(c => !All.Contains(c, StringComparer.Ordinal)))
                {
                    problems.Add($"{name}: unknown category \"{unknown}\" (known: {string.Join(", ", All)})");
                }
                if (categories.Contains(Unit, StringComparer.Ordinal) && categories.Count > 1)
                {
                    problems.Add($"{name}: Unit together with {string.Join(", ", categories.Where(c => c != Unit))}");
                }
            }
        }
        return problems;
    }

    /// <summary>The categories a class or method declares itself: these attributes, and plain <c>[Trait("Category", X)]</c>.</summary>
    private static IEnumerable<string> Of(MemberInfo member) =>
        member.GetCustomAttributes<CategoryAttribute>(inherit: false).Select(a => a.Category)
            .Concat(member.GetCustomAttributesData()
                .Where(a => a.AttributeType == typeof(TraitAttribute) && a.ConstructorArguments is [{ Value: Trait }, _])
                .Select(a => (string)a.ConstructorArguments[1].Value!));
}

/// <summary>The base of the category attributes: each is the trait <c>Category</c> = <see cref="Category"/>.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false)]
public abstract class CategoryAttribute(string category) : Attribute, ITraitAttribute
{
    public string Category { get; } = category;
}

/// <summary>Category <c>Unit</c>: needs nothing beyond the build (<see cref="TestCategories"/>).</summary>
[TraitDiscoverer(CategoryDiscoverer.TypeName, CategoryDiscoverer.AssemblyName)]
public sealed class UnitAttribute() : CategoryAttribute(TestCategories.Unit);

/// <summary>Category <c>Root</c>: needs root (namespaces, TUN, netlink changes, iptables/nft, nspawn).</summary>
[TraitDiscoverer(CategoryDiscoverer.TypeName, CategoryDiscoverer.AssemblyName)]
public sealed class NeedsRootAttribute() : CategoryAttribute(TestCategories.Root);

/// <summary>Category <c>Etcd</c>: starts Debian's etcd.</summary>
[TraitDiscoverer(CategoryDiscoverer.TypeName, CategoryDiscoverer.AssemblyName)]
public sealed class NeedsEtcdAttribute() : CategoryAttribute(TestCategories.Etcd);

/// <summary>Category <c>Docker</c>: runs dockerd.</summary>
[TraitDiscoverer(CategoryDiscoverer.TypeName, CategoryDiscoverer.AssemblyName)]
public sealed class NeedsDockerAttribute() : CategoryAttribute(TestCategories.Docker);

/// <summary>Category <c>Binary</c>: needs the published native flanneld in <c>$FLANNELD_BINARY</c>.</summary>
[TraitDiscoverer(CategoryDiscoverer.TypeName, CategoryDiscoverer.AssemblyName)]
public sealed class NeedsBinaryAttribute() : CategoryAttribute(TestCategories.Binary);

/// <summary>Turns a <see cref="CategoryAttribute"/> into its trait for xunit's discovery.</summary>
public sealed class CategoryDiscoverer : ITraitDiscoverer
{
    public const string TypeName = "Flannel.TestSupport.CategoryDiscoverer", AssemblyName = "Flannel.TestSupport";

    public IEnumerable<KeyValuePair<string, string>> GetTraits(IAttributeInfo traitAttribute)
    {
        ArgumentNullException.ThrowIfNull(traitAttribute);
        var attribute = (traitAttribute as IReflectionAttributeInfo)?.Attribute as CategoryAttribute
            ?? throw new InvalidOperationException("a test category attribute must be discovered by reflection");
        yield return new KeyValuePair<string, string>(TestCategories.Trait, attribute.Category);
    }
}
