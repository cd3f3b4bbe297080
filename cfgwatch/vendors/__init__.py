"""Platform parsers: one module per platform, registered in `registry.PLATFORM_MODULES`."""
