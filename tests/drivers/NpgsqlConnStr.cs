// The `--format npgsql` string read back by .NET's DbConnectionStringBuilder
// (Mono's System.Data, corefx's code): the parser Npgsql's
// NpgsqlConnectionStringBuilder derives from. Npgsql itself is on NuGet only,
// which this machine cannot reach (tests/drivers.rs).
//
// usage: DRIVER_URL=... DRIVER_PASSWORD=... mono NpgsqlConnStr.exe
//
// Prints every key but Password as `key=value` (lower-cased key), and
// `password_ok` or `password_differs` (the password itself is never printed).
using System;
using System.Data.Common;

class NpgsqlConnStr {
    static int Main() {
        var b = new DbConnectionStringBuilder();
        try {
            b.ConnectionString = Environment.GetEnvironmentVariable("DRIVER_URL");
        } catch (ArgumentException e) {
            Console.Error.WriteLine("error: " + e.Message);
            return 1;
        }
        foreach (string key in b.Keys) {
            if (key.ToLowerInvariant() == "password") continue;
            Console.WriteLine(key.ToLowerInvariant() + "=" + b[key]);
        }
        object pw;
        bool same = b.TryGetValue("Password", out pw)
            && (string) pw == Environment.GetEnvironmentVariable("DRIVER_PASSWORD");
        Console.WriteLine(same ? "password_ok" : "password_differs");
        return same ? 0 : 1;
    }
}
