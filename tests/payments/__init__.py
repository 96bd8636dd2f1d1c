"""Payment provider tests: adapters driven against emulators of the real services."""
