"""The built-in data checks of SPEC section 3: the launch gate and monitoring."""
