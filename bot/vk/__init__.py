"""The VK front-end (vk_api, Bots Long Poll or Callback API): events in, Replies out."""
