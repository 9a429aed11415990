def test_each_role_lands_on_its_home(world, login_as):
    for role, home in (("admin", "/admin/"), ("dealer", "/dealer/"), ("retailer", "/retailer/"), ("rep", "/rep/")):
        c = login_as(role)
        response = c.get(home)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert world.users[role].username in page and world.users[role].org.name in page
