using AuthSplit.Core.Configuration;

namespace AuthSplit.Core.Tests.Configuration;

public sealed class EvidenceOptionsValidationTests
{
    private static IEnumerable<ConfigError> EvidenceErrors(EvidenceOptions evidence) =>
        AuthSplitOptionsValidator.Validate(new AuthSplitOptions { Evidence = evidence }, requireLiveSource: false).Where(e => e.Key.StartsWith("Evidence:", StringComparison.Ordinal));

    [Fact]
    public void No_signing_key_is_a_valid_config_export_then_refuses_unless_unsigned() =>
        EvidenceErrors(new EvidenceOptions()).Should().BeEmpty();

    [Fact]
    public void A_key_file_or_a_variable_is_valid_but_not_both() =>
        EvidenceErrors(new EvidenceOptions { SigningKeyFile = "/etc/authsplit/evidence.pem", SigningKeyEnvVar = "AUTHSPLIT_EVIDENCE_KEY" })
            .Should().ContainSingle().Which.Should().Be(new ConfigError("Evidence:SigningKeyEnvVar", "set only one of Evidence:SigningKeyEnvVar and Evidence:SigningKeyFile"));

    [Fact]
    public void A_pem_pasted_into_the_variable_name_is_caught_without_echoing_it()
    {
        var errors = EvidenceErrors(new EvidenceOptions { SigningKeyEnvVar = "-----BEGIN PRIVATE KEY-----MIGHAgEAMBMG" }).ToList();

        errors.Should().ContainSingle().Which.Key.Should().Be("Evidence:SigningKeyEnvVar");
        errors[0].Message.Should().NotContain("MIGHAgEAMBMG").And.Contain("secrets are never read from the config file");
    }

    [Fact]
    public void An_empty_key_file_path_is_named() =>
        EvidenceErrors(new EvidenceOptions { SigningKeyFile = " " }).Should().ContainSingle().Which.Key.Should().Be("Evidence:SigningKeyFile");
}
