import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { ApiError } from "../api/client";
import type { User } from "../api/types";
import { useServices } from "../app/services";

export type AuthStatus = "restoring" | "signedIn" | "signedOut";

export interface Auth {
  status: AuthStatus;
  user: User | null;
  signIn(email: string, password: string): Promise<void>;
  register(name: string, email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const { api, session } = useServices();
  const queryClient = useQueryClient();
  const [user, setUser] = useState<User | null>(null);
  const [status, setStatus] = useState<AuthStatus>(session.hasRefreshToken ? "restoring" : "signedOut");

  const load = useCallback(async () => {
    try {
      setUser(await api.me());
      setStatus("signedIn");
    } catch (error) {
      // A network failure keeps the stored token: the next load tries again.
      if (error instanceof ApiError && error.status === 401) session.end();
      setUser(null);
      setStatus("signedOut");
    }
  }, [api, session]);

  useEffect(() => {
    // eslint-disable-next-line react-hooks/set-state-in-effect -- load() sets state after its request
    if (session.hasRefreshToken) void load();
    const stopWatching = session.watchOtherTabs();
    // Signed out here, in another tab, or by a refresh the API refused.
    const unsubscribe = session.subscribe(() => {
      if (session.hasRefreshToken) return;
      setUser(null);
      setStatus("signedOut");
      queryClient.removeQueries({ queryKey: ["me"] });
    });
    return () => {
      stopWatching();
      unsubscribe();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per mount
  }, []);

  const signIn = useCallback(
    async (email: string, password: string) => {
      session.start(await api.login({ email, password }));
      await load();
    },
    [api, session, load],
  );

  const register = useCallback(
    async (name: string, email: string, password: string) => {
      await api.register({ name, email, password });
      session.start(await api.login({ email, password }));
      await load();
    },
    [api, session, load],
  );

  const signOut = useCallback(async () => {
    const token = session.refreshToken;
    session.end();
    queryClient.removeQueries({ queryKey: ["me"] });
    if (token) await api.logout(token).catch(() => undefined); // signed out here either way
  }, [api, session, queryClient]);

  const value = useMemo(() => ({ status, user, signIn, register, signOut }), [status, user, signIn, register, signOut]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}
