namespace AuthSplit.Core.Configuration;

public static partial class AuthSplitOptionsValidator
{
    private static void ValidateServe(ServeOptions serve, List<ConfigError> errors)
    {
        if (!(serve.CheckinIntervalSeconds >= 1 && serve.CheckinIntervalSeconds <= 300))
        {
            errors.Add(new("Serve:CheckinIntervalSeconds", $"must be between 1 and 300 (got {serve.CheckinIntervalSeconds})"));
        }
        else if (!(serve.CheckinMisfireThresholdSeconds >= 2 * serve.CheckinIntervalSeconds && serve.CheckinMisfireThresholdSeconds <= 600))
        {
            errors.Add(new("Serve:CheckinMisfireThresholdSeconds", $"must be at least twice Serve:CheckinIntervalSeconds and at most 600 (got {serve.CheckinMisfireThresholdSeconds})"));
        }

        var http = serve.Http;
        if (!http.Enabled)
        {
            return;
        }

        var urls = ServeHttpAddress.Split(http.Urls);
        if (urls.Count == 0)
        {
            errors.Add(new("Serve:Http:Urls", $"must name at least one http://host:port address (the default is {ServeDefaults.HttpUrls}); set Serve:Http:Enabled to false for no HTTP endpoint"));
            return;
        }

        foreach (var url in urls)
        {
            if (!ServeHttpAddress.TryParse(url, out var address))
            {
                errors.Add(new("Serve:Http:Urls", $"\"{url}\" is not an http://host:port address (e.g. {ServeDefaults.HttpUrls}; port 0 takes a free port; https is not offered, put a TLS proxy in front)"));
            }
            else if (!address!.IsLoopback && !http.AllowNonLoopback)
            {
                errors.Add(new("Serve:Http:Urls", $"\"{url}\" listens beyond this machine's loopback interface: health and metrics (wave names and counts, no TLS, no authentication) stay on 127.0.0.1 unless Serve:Http:AllowNonLoopback is true"));
            }
        }
    }
}
