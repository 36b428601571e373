/**
 * Sign in and sign up.
 *
 * @module
 */
import type { JSX } from "preact";
import { useRef, useState } from "preact/hooks";
import { Role } from "@platform/proto/users/v1";
import { sessionFromLogin, useApp } from "../context.ts";
import { describeError, type Problem } from "../errors.ts";
import {
  fieldError,
  focusFirstInvalid,
  formProblem,
  ProblemBox,
  TextField,
} from "./components.tsx";

const USER_SERVICE = "User Service";

/**
 * The sign-in form.
 *
 * @example
 * ```tsx
 * <SignIn />
 * ```
 */
export function SignIn(): JSX.Element {
  const { api, session } = useApp();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>();

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    try {
      session.set(sessionFromLogin(await api.users.login({ email, password })));
      location.hash = "#/";
    } catch (error) {
      setProblem(describeError(error, USER_SERVICE));
      focusFirstInvalid();
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="narrow">
      <h1 tabIndex={-1}>Sign in</h1>
      <form onSubmit={submit}>
        <ProblemBox problem={formProblem(problem, ["email", "password"])} id="signin-problem" />
        <TextField
          id="email"
          label="Email"
          type="email"
          autoComplete="username"
          value={email}
          onValue={setEmail}
          error={fieldError(problem, "email")}
          required
        />
        <TextField
          id="password"
          label="Password"
          type="password"
          autoComplete="current-password"
          value={password}
          onValue={setPassword}
          error={fieldError(problem, "password")}
          required
        />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        New here? <a href="#/signup">Create an account</a>
      </p>
    </div>
  );
}

/**
 * The sign-up form: a client posts tasks, a developer takes them.
 *
 * @example
 * ```tsx
 * <SignUp />
 * ```
 */
export function SignUp(): JSX.Element {
  const { api, session } = useApp();
  const [displayName, setDisplayName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<"client" | "developer">("client");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  // One idempotency key per sign-up: sending the same form again (a retry after a lost answer)
  // reuses it, so the service answers the account it created instead of already_exists; a
  // changed form is another sign-up, with a new key.
  const signUpKey = useRef<{ form: string; key: string } | undefined>(undefined);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    const form = JSON.stringify([email, password, displayName, role]);
    if (signUpKey.current?.form !== form) {
      signUpKey.current = { form, key: crypto.randomUUID() };
    }
    try {
      await api.users.register({
        email,
        password,
        displayName,
        role: role === "developer" ? Role.DEVELOPER : Role.CLIENT,
        idempotencyKey: signUpKey.current.key,
      });
      session.set(sessionFromLogin(await api.users.login({ email, password })));
      location.hash = "#/";
    } catch (error) {
      setProblem(describeError(error, USER_SERVICE));
      focusFirstInvalid();
    } finally {
      setBusy(false);
    }
  };

  const fields = ["display_name", "email", "password", "role"];
  const top = formProblem(problem, fields);
  return (
    <div class="narrow">
      <h1 tabIndex={-1}>Create an account</h1>
      <form onSubmit={submit}>
        <ProblemBox problem={top} />
        {top?.kind === "conflict" && (
          <p>
            <a href="#/signin">Sign in with that email instead</a>
          </p>
        )}
        <fieldset class="choice">
          <legend>I want to</legend>
          <label>
            <input
              type="radio"
              name="role"
              value="client"
              checked={role === "client"}
              onChange={() => setRole("client")}
            />{" "}
            post tasks (client)
          </label>
          <label>
            <input
              type="radio"
              name="role"
              value="developer"
              checked={role === "developer"}
              onChange={() => setRole("developer")}
            />{" "}
            take on tasks (developer)
          </label>
        </fieldset>
        <TextField
          id="display_name"
          label="Your name"
          autoComplete="name"
          value={displayName}
          onValue={setDisplayName}
          error={fieldError(problem, "display_name")}
          maxLength={100}
        />
        <TextField
          id="email"
          label="Email"
          type="email"
          autoComplete="email"
          value={email}
          onValue={setEmail}
          error={fieldError(problem, "email")}
          required
        />
        <TextField
          id="password"
          label="Password"
          type="password"
          autoComplete="new-password"
          hint="At least 8 characters."
          value={password}
          onValue={setPassword}
          error={fieldError(problem, "password")}
          required
        />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Creating your account…" : "Create account"}
        </button>
      </form>
      <p>
        Already have an account? <a href="#/signin">Sign in</a>
      </p>
    </div>
  );
}
