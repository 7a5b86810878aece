from canhgac.notifications.slack.client import slack_client
from canhgac.notifications.slack.notifier import SlackNotifier

__all__ = ["SlackNotifier", "slack_client"]
