declare module "*.css" {
  const text: string;
  export default text;
}
declare module "katex-inline.css" {
  const text: string;
  export default text;
}
