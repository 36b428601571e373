// The API is npm postgres@3.4.9's, unchanged by the patch: its own declarations.
export { default } from "postgres-upstream";
