"""The statistics app keeps no tables of its own: the daily usage it reports on is
`proxies.models.UsageDaily` (its table is still `stats_usagedaily`), summed per account and day in
`proxies.models.AccountUsageDaily`."""
