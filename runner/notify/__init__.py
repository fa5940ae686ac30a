"""Notifications: subscriptions decide who hears of which problem events, when and how often."""
