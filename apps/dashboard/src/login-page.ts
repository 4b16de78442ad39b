import { html } from 'hono/html';

/** The login form; plain HTML, no script, so nothing but the form post can run on it. */
export function loginPage(error: string | undefined, next: string) {
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>imsync dashboard: sign in</title>
    <style>
      body { font-family: system-ui, sans-serif; background: #f4f5f7; display: grid; place-items: center; min-height: 100vh; margin: 0; }
      form { background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 4px #0002; display: grid; gap: .75rem; width: 18rem; }
      h1 { font-size: 1.2rem; margin: 0 0 .5rem; }
      input, button { font: inherit; padding: .5rem; }
      button { background: #2563eb; color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
      .error { color: #b91c1c; margin: 0; }
    </style>
  </head>
  <body>
    <form method="post" action="/login">
      <h1>imsync dashboard</h1>
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      <label>User <input name="user" autocomplete="username" required autofocus /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
      <input type="hidden" name="next" value="${next}" />
      <button type="submit">Sign in</button>
    </form>
  </body>
</html>`;
}
