"""Chat that cannot lose a notice: producers write to the outbox in the store, one dispatcher sends (decision 0040)."""

from canhgac.notifications.chat.dispatcher import Clock, Dispatcher
from canhgac.notifications.chat.health import ChannelHealth, chat_health, reason
from canhgac.notifications.chat.notices import channels_for, chat_enabled
from canhgac.notifications.chat.writer import (
    OutboxNotifier,
    change_observer,
    incident_changed,
    post_in_thread,
    post_to_channel,
)

__all__ = ["ChannelHealth", "Clock", "Dispatcher", "OutboxNotifier", "change_observer", "channels_for",
           "chat_enabled", "chat_health", "incident_changed", "post_in_thread", "post_to_channel", "reason"]
