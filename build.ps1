<#
.SYNOPSIS
  AuthSplit build for operators on Windows/PowerShell: a thin, linear wrapper over the same dotnet
  commands the README gives for Linux. Each step's exit code is checked.
.EXAMPLE
  ./build.ps1 test
  ./build.ps1 plan
#>
param(
    [ValidateSet('build', 'test', 'plan', 'bench')]
    [string] $Task = 'test'
)

$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

function Invoke-Dotnet {
    & dotnet @args
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($args -join ' ') failed with exit code $LASTEXITCODE" }
}

switch ($Task) {
    'build' { Invoke-Dotnet build AuthSplit.sln -c Release }
    'test'  { Invoke-Dotnet test AuthSplit.sln }
    'plan'  {
        Invoke-Dotnet run --project src/AuthSplit.Cli -- plan `
            --config config/samples/authsplit.json `
            --source-ldif config/samples/legacy.ldif `
            --target-snapshot config/samples/target `
            --decisions config/samples/decisions.json `
            --out plan.json
    }
    'bench' { Invoke-Dotnet run -c Release --project bench/AuthSplit.Benchmarks -- all }
}
