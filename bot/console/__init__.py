"""The console (web-chat) channel: a person writes or presses over HTTP and reads screens back."""
