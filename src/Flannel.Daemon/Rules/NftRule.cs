namespace Flannel.Daemon.Rules;

/// <summary>
/// One rule of a chain in the <c>ip flannel-ipv4</c> table, as <c>nft add rule</c> takes it and as
/// <see cref="NftRuleset"/> renders a listed rule back (so a listed rule compares to ours by text).
/// </summary>
internal readonly record struct NftRule(string Chain, string Expr)
{
    public override string ToString() => $"{Chain}: {Expr}";
}
