namespace Flannel.Subnet.Etcd;

/// <summary>
/// A failed etcd call in the etcd layer's own terms: the lease loops and the commands catch these and never see gRPC's
/// types. <see cref="Exception.Message"/> is the text an operator reads: an Unavailable answer's detail already says
/// where and why (the endpoints and the network's answer, or etcd's "no leader"); any other answer is "Code: detail".
/// </summary>
public abstract class EtcdException : Exception
{
    /// <summary>The status name of an answer whose detail stands on its own (see <see cref="Describe"/>).</summary>
    public const string UnavailableCode = "Unavailable";

    protected EtcdException(string code, string detail, Exception? inner)
        : base(Text(code, detail), inner)
    {
        Code = code;
        Detail = detail;
    }

    /// <summary>
    /// The status etcd's client API failed the call with, by name (Unavailable, PermissionDenied, ...): the names
    /// etcd's documentation and logs use, so an operator can look them up.
    /// </summary>
    public string Code { get; }

    /// <summary>What etcd (or the network) said, rewritten where gRPC's own text hides the cause.</summary>
    public string Detail { get; }

    /// <summary>Whether another attempt may succeed without anyone changing anything (unreachable, no leader, no answer in time).</summary>
    public abstract bool IsTransient { get; }

    /// <summary>
    /// The operator's line: an answer whose detail does not say where it came from gets <paramref name="where"/>
    /// (e.g. "etcd at URL") before its code.
    /// </summary>
    public string Describe(string where) => Code == UnavailableCode ? Detail : $"{where}: {Code}: {Detail}";

    private static string Text(string code, string detail) => code == UnavailableCode ? detail : $"{code}: {detail}";
}
