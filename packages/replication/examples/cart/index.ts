/**
 * The shopping cart example: an application plugin that keeps carts in the replicated store as
 * add-wins observed-remove sets (ORSWOT). Design: docs/cart.md.
 */
export {
  CART_PATH,
  cartActor,
  type CartErrorCode,
  type CartFailure,
  type CartMessage,
  type CartOk,
  type CartOptions,
  cartPlugin,
  cartRef,
  type CartReply,
  type CartRequest,
  DEFAULT_CART_OPTIONS,
  isCart,
  isCartId,
  isItem,
  MAX_CART_ID_LENGTH,
  MAX_ITEM_LENGTH,
  type ResolvedCartOptions,
  useCart,
} from './cart.ts';
export { CartClient, type CartClientOptions, CartError } from './client.ts';
export { add, counterOf, type Dot, elements, emptyOrswot, has, isOrswot, merge, mergeAll, type Orswot, type OrswotEntry, remove } from './orswot.ts';
