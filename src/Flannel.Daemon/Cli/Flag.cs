namespace Flannel.Daemon.Cli;

/// <summary>One flag: name, default, help text and the group it is listed under in <c>--help</c>.</summary>
internal abstract class Flag
{
    protected Flag(string name, string help, string group, bool isBool)
    {
        Name = name;
        Help = help;
        Group = group;
        IsBool = isBool;
    }

    public string Name { get; }
    public string Help { get; }
    public string Group { get; }
    public bool IsBool { get; }
    public bool IsSetOnCommandLine { get; protected set; }
    public bool IsSet { get; protected set; }
    public abstract string DefaultText { get; }

    internal abstract void Set(string value, bool fromCommandLine, string? source = null);
}
