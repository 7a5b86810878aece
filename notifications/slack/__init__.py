from notifications.slack.client import slack_client
from notifications.slack.notifier import SlackNotifier

__all__ = ["SlackNotifier", "slack_client"]
