// Log in with a user name and password; errors (a wrong password, too many tries) inline.
import { Navigate } from "@tanstack/react-router";
import { useState, type FormEvent } from "react";

import { useLogin } from "../api/auth";
import { useSession } from "../auth/session";

export function LoginPage() {
  const token = useSession((s) => s.token);
  const login = useLogin();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  if (token !== null) return <Navigate to="/pipelines" />;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    login.mutate({ username, password });
  };
  return (
    <div className="login">
      <form className="card login-card" onSubmit={submit}>
        <h1>
          <img src="/favicon.svg" alt="" width={28} height={28} /> Cube Studio
        </h1>
        <label>
          User name
          <input
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {login.error && (
          <p className="error" role="alert">
            {login.error.message}
          </p>
        )}
        <button type="submit" className="primary" disabled={login.isPending}>
          {login.isPending ? "Logging in…" : "Log in"}
        </button>
        <p className="hint">
          The first admin's password is in <code>$CUBE_HOME/admin-password</code>.
        </p>
      </form>
    </div>
  );
}
