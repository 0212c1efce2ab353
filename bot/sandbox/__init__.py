"""The sandbox: the real bot against the package's fake Telegram and Zalo servers, a small demo province, and a
web page that plays any of its people, so Chibo can be tried in five minutes with no token and no internet.

`bot.sandbox.app.Sandbox` starts everything; `chibo sandbox` (and `chibo run` without a token) runs it.
Nothing outside this package knows it is in a sandbox: the bot sees only its configured API URLs and its clock.
"""
