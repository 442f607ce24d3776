// A user's whole session through the generated TypeScript clients (make clients), the flow of
// tests/e2e/test_generated_clients.py: register, log in, create a todo once per Idempotency-Key,
// page by the Link header's next cursor, read with If-None-Match (304), update with If-Match
// (a stale one gets 412), delete, refresh with the refresh token, log out, the token refused.
// Checked with tsc --strict by make test (tests/contract/test_generated_clients.py), which also
// runs it, compiled, with Node against both services.
import { getMe, login, logout, refreshTokens, registerUser, type TokenPair } from "./auth/index.js";
import { createClient as createAuthClient } from "./auth/client/index.js";
import { createTodo, deleteTodo, getTodo, listTodos, type Todo, updateTodo } from "./todo/index.js";
import { createClient as createTodoClient } from "./todo/client/index.js";

function expect(condition: boolean, what: string): asserts condition {
  if (!condition) {
    throw new Error(`expected: ${what}`);
  }
}

/** The `after` cursor of a Link header's rel="next" (RFC 8288), if there is one. */
function nextCursor(link: string | null): string | undefined {
  for (const part of (link ?? "").split(",")) {
    const [target = "", ...parameters] = part.split(";");
    if (parameters.some((parameter) => parameter.trim() === 'rel="next"')) {
      const url = new URL(target.trim().replace(/^<|>$/g, ""), "http://link.invalid");
      return url.searchParams.get("after") ?? undefined;
    }
  }
  return undefined;
}

export async function wholeSession(authUrl: string, todoUrl: string): Promise<void> {
  const username = `ts_${crypto.randomUUID().slice(0, 12)}`;
  const password = `Pw-${crypto.randomUUID()}`;
  const auth = createAuthClient({ baseUrl: authUrl });

  const registered = await registerUser({ client: auth, body: { username, password } });
  expect(registered.response?.status === 201, "201 from registerUser");
  const loggedIn = await login({ client: auth, body: { username, password } });
  expect(loggedIn.data !== undefined, "an answer from login");
  // 200 is the token pair; 202 asks for a second factor (an account with MFA on).
  if ("mfa_required" in loggedIn.data) throw new Error("this account has no second factor");
  let tokens: TokenPair = loggedIn.data;
  const me = await getMe({ client: auth, auth: tokens.access_token });
  expect(me.data?.username === username, "getMe answers the new user");

  let accessToken = tokens.access_token;
  const todo = createTodoClient({ baseUrl: todoUrl, auth: () => accessToken });
  const key = crypto.randomUUID();
  const created = await createTodo({
    client: todo,
    body: { title: "Water the plants" },
    headers: { "Idempotency-Key": key },
  });
  expect(created.response?.status === 201 && created.data !== undefined, "201 from createTodo");
  let plants: Todo = created.data;
  const replayed = await createTodo({
    client: todo,
    body: { title: "Water the plants" },
    headers: { "Idempotency-Key": key },
  });
  expect(replayed.response?.headers.get("Idempotent-Replayed") === "true", "a replay");
  expect(replayed.data?.id === plants.id, "the replay answers the same todo");
  await createTodo({ client: todo, body: { title: "Buy bread" } });

  const seen: string[] = [];
  let after: string | undefined;
  do {
    const page = await listTodos({ client: todo, query: { page_size: 1, after } });
    expect(page.data !== undefined, "a page from listTodos");
    seen.push(...page.data.map((each) => each.id));
    after = nextCursor(page.response?.headers.get("Link") ?? null);
  } while (after !== undefined && seen.length < 10);
  expect(seen.length === 2 && seen[0] === plants.id, "both todos, one page each");

  const unchanged = await getTodo({
    client: todo,
    path: { todo_id: plants.id },
    headers: { "If-None-Match": plants.etag },
  });
  expect(unchanged.response?.status === 304, "304 for the ETag held");

  const updated = await updateTodo({
    client: todo,
    path: { todo_id: plants.id },
    body: { done: true },
    headers: { "If-Match": plants.etag },
  });
  expect(updated.data?.done === true, "the update applied");
  const stale = await updateTodo({
    client: todo,
    path: { todo_id: plants.id },
    body: { title: "late" },
    headers: { "If-Match": plants.etag },
  });
  expect(stale.response?.status === 412 && stale.error?.status === 412, "412 for a stale ETag");
  plants = updated.data;

  const deleted = await deleteTodo({
    client: todo,
    path: { todo_id: plants.id },
    headers: { "If-Match": plants.etag },
  });
  expect(deleted.response?.status === 204, "204 from deleteTodo");

  // The refreshToken scheme: the refresh token is this request's bearer token.
  const refreshed = await refreshTokens({ client: auth, auth: tokens.refresh_token });
  expect(refreshed.data !== undefined, "a new pair from refreshTokens");
  tokens = refreshed.data;
  accessToken = tokens.access_token;
  const out = await logout({ client: auth, auth: tokens.access_token });
  expect(out.response?.status === 204, "204 from logout");
  const refused = await getMe({ client: auth, auth: tokens.access_token });
  expect(refused.response?.status === 401 && refused.error?.status === 401, "401 after logout");
}
