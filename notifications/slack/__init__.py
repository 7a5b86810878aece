from canhgac.notifications.slack.client import slack_client
from canhgac.notifications.slack.sender import SlackSender

__all__ = ["SlackSender", "slack_client"]
