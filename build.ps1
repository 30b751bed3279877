<#
.SYNOPSIS
  AuthSplit build for operators on Windows/PowerShell: a thin, linear wrapper over the same dotnet
  commands the README gives for Linux. Each step's exit code is checked.
.EXAMPLE
  ./build.ps1 test
  ./build.ps1 plan      # writes plan.json to $env:WORK (default: a folder under your profile, outside the repository)
  ./build.ps1 install   # packs the CLI into ./artifacts and installs `authsplit` as a global .NET tool
#>
param(
    [ValidateSet('build', 'test', 'plan', 'pack', 'install', 'bench')]
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
        $work = if ($env:WORK) { $env:WORK } else { Join-Path $HOME 'authsplit-work' }
        New-Item -ItemType Directory -Force -Path $work | Out-Null
        Invoke-Dotnet run --project src/AuthSplit.Cli -- plan `
            --config config/samples/authsplit.json `
            --source-ldif config/samples/legacy.ldif `
            --target-snapshot config/samples/target `
            --decisions config/samples/decisions.json `
            --out (Join-Path $work 'plan.json')
    }
    'pack'    { Invoke-Dotnet pack src/AuthSplit.Cli -o ./artifacts }
    'install' {
        Invoke-Dotnet pack src/AuthSplit.Cli -o ./artifacts
        Invoke-Dotnet tool install --global --add-source ./artifacts AuthSplit.Cli
    }
    'bench' { Invoke-Dotnet run -c Release --project bench/AuthSplit.Benchmarks -- all }
}
