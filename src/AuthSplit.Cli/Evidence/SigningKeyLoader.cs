using System.Security.Cryptography;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Evidence.Packs;

namespace AuthSplit.Cli.Evidence;

/// <summary>
/// Reads the evidence signing key (ECDSA P-256, PEM) from <c>Evidence:SigningKeyEnvVar</c> or
/// <c>Evidence:SigningKeyFile</c>. Unlike a password it is many lines: the whole value is the PEM. Errors name
/// the key path and the file, never the key.
/// </summary>
public static class SigningKeyLoader
{
    /// <summary>The key, or null when none is configured.</summary>
    public static ECDsa? LoadOptional(EvidenceOptions options, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        environment ??= Environment.GetEnvironmentVariable;
        string pem;
        string where;
        string? file = null;
        if (!string.IsNullOrWhiteSpace(options.SigningKeyEnvVar))
        {
            pem = environment(options.SigningKeyEnvVar) ?? "";
            where = $"the environment variable {options.SigningKeyEnvVar} (named by Evidence:SigningKeyEnvVar)";
            if (pem.Trim().Length == 0)
            {
                throw new InputException("signing-key-missing", $"{where} is not set or empty; export the PEM private key in it before running");
            }
        }
        else if (!string.IsNullOrWhiteSpace(options.SigningKeyFile))
        {
            file = options.SigningKeyFile;
            where = "the file named by Evidence:SigningKeyFile";
            pem = ReadKeyFile(file, where);
        }
        else
        {
            return null;
        }

        ECDsa key;
        try
        {
            key = SigningKeys.Import(pem);
        }
        catch (FormatException ex)
        {
            throw new InputException("signing-key-invalid", $"{where}: {ex.Message}", file);
        }

        try
        {
            _ = key.ExportParameters(includePrivateParameters: true);
        }
        catch (CryptographicException)
        {
            key.Dispose();
            throw new InputException("signing-key-invalid", $"{where} holds a public key; the signing key is the private one (-----BEGIN PRIVATE KEY-----)", file);
        }

        return key;
    }

    // A PEM key is a few hundred bytes; anything far larger is not one (and /dev/zero would never end).
    private const int MaximumKeyFileBytes = 64 * 1024;

    private static string ReadKeyFile(string file, string where)
    {
        var kind = Output.UnixFile.Identify(file).Kind;
        if (kind == Output.FileKind.Directory)
        {
            throw new InputException("signing-key-invalid", $"{where} is a directory, not a PEM file", file);
        }

        if (kind == Output.FileKind.Special)
        {
            throw new InputException("signing-key-invalid", $"{where} is not a regular file (a device, FIFO or socket); name the PEM file itself", file);
        }

        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (stream.Length > MaximumKeyFileBytes)
            {
                throw new InputException("signing-key-invalid", $"{where} is {stream.Length} bytes, too large to be a PEM key (at most {MaximumKeyFileBytes})", file);
            }

            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException("signing-key-missing", $"cannot read {where}: {ex.Message}", file);
        }
    }
}
