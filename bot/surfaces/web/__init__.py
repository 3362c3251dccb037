"""The web app (Gradio): the app and its handlers, pure HTML rendering, the chats kept in the browser, static assets."""
