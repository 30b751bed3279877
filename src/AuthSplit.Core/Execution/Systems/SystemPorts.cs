namespace AuthSplit.Core.Execution.Systems;

/// <summary>The outside world of a wave's systems, composed by the host (AuthSplit.Hooks, AuthSplit.Ldap's bind probe).</summary>
public sealed record SystemPorts(ICommandRunner Commands, IHttpCaller Http, ILdapBindProbe LdapBind);
